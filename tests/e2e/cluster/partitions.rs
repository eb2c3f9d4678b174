//! A database split over 4 partitions: rows land in the partition that owns their key,
//! reads on every partition merge to what one database answers, and what cannot be
//! placed or merged is refused.

use litescale_config::{Config, KeyValue};

use crate::harness::{TestServer, simple_rows, sqlstate};

pub(crate) const MAP: &str = r#"
[partitions]
count = 4

[tables.accounts]
key = "aid"

[tables.history]
key = "aid"
colocate_with = "accounts"

[tables.audit]
partition = 2
"#;

const SCHEMA: &str =
    "CREATE TABLE accounts (aid INT PRIMARY KEY, bid INT, abalance INT, note TEXT);
                      CREATE TABLE history (aid INT, delta INT);
                      CREATE TABLE audit (id INT, what TEXT)";

pub(crate) async fn load(c: &tokio_postgres::Client) {
    for ddl in SCHEMA.split(';') {
        c.batch_execute(ddl).await.unwrap();
    }
    let insert = c
        .prepare("INSERT INTO accounts VALUES ($1, $2, $3, $4)")
        .await
        .unwrap();
    for aid in 1..=200i32 {
        let note = if aid % 7 == 0 {
            None
        } else {
            Some(format!("n{}", aid % 13))
        };
        c.execute(
            &insert,
            &[&aid, &(aid % 5), &((aid * 37) % 101 - 50), &note],
        )
        .await
        .unwrap();
        c.execute("INSERT INTO history VALUES ($1, $2)", &[&aid, &(aid % 3)])
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_database_answers_as_one_database_would() {
    let config: Config = toml::from_str(MAP).unwrap();
    let map = config.partition_map().unwrap();
    let split = TestServer::start_with(config).await;
    let single = TestServer::start().await;
    let (s, o) = (split.client().await, single.client().await);
    load(&s).await;
    load(&o).await;

    // Each row is in the file of the partition that owns its key, and only there.
    let mut total = 0;
    for p in 0..4 {
        let db =
            rusqlite::Connection::open(split.data_dir().join("postgres").join(format!("{p}.db")))
                .unwrap();
        let mut stmt = db.prepare("SELECT aid FROM accounts").unwrap();
        let aids: Vec<i64> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for aid in &aids {
            assert_eq!(
                map.partition_of("accounts", &KeyValue::Int(*aid)),
                Ok(p),
                "aid {aid}"
            );
        }
        total += aids.len();
    }
    assert_eq!(total, 200);

    for sql in [
        "SELECT aid, abalance FROM accounts WHERE aid = 17",
        "SELECT aid FROM accounts WHERE aid IN (3, 99, 150) ORDER BY aid",
        "SELECT count(*), sum(abalance), min(abalance), max(abalance), avg(abalance) FROM accounts",
        "SELECT bid, count(*), sum(abalance), avg(abalance) FROM accounts GROUP BY bid ORDER BY bid",
        "SELECT aid, abalance FROM accounts ORDER BY abalance DESC, aid LIMIT 7 OFFSET 3",
        "SELECT note, aid FROM accounts ORDER BY note, aid LIMIT 12",
        "SELECT note, aid FROM accounts ORDER BY note DESC NULLS LAST, aid LIMIT 12",
        "SELECT DISTINCT bid FROM accounts ORDER BY bid",
        "SELECT count(*) FROM accounts a JOIN history h ON a.aid = h.aid WHERE h.delta = 1",
        "SELECT aid FROM accounts WHERE abalance > 40 ORDER BY aid",
    ] {
        let got = simple_rows(&s.simple_query(sql).await.unwrap());
        let want = simple_rows(&o.simple_query(sql).await.unwrap());
        assert_eq!(got, want, "{sql}");
    }

    // Key-routed writes, then reads of them.
    s.execute(
        "UPDATE accounts SET abalance = abalance + 5 WHERE aid = $1",
        &[&42i32],
    )
    .await
    .unwrap();
    o.execute(
        "UPDATE accounts SET abalance = abalance + 5 WHERE aid = $1",
        &[&42i32],
    )
    .await
    .unwrap();
    let q = "SELECT abalance FROM accounts WHERE aid = 42";
    assert_eq!(
        simple_rows(&s.simple_query(q).await.unwrap()),
        simple_rows(&o.simple_query(q).await.unwrap())
    );
    s.batch_execute("INSERT INTO audit VALUES (1, 'x')")
        .await
        .unwrap();
    let audit = rusqlite::Connection::open(split.data_dir().join("postgres").join("2.db")).unwrap();
    let n: i64 = audit
        .query_row("SELECT count(*) FROM audit", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1, "an unsharded table lives in its partition");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_shows_the_route() {
    let split = TestServer::start_with(toml::from_str(MAP).unwrap()).await;
    let c = split.client().await;
    load(&c).await;
    let plan = |sql: &'static str| {
        let c = &c;
        async move {
            let rows = c.query(&format!("EXPLAIN {sql}"), &[]).await.unwrap();
            rows.iter()
                .map(|r| r.get::<_, String>(0))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        plan("SELECT abalance FROM accounts WHERE aid = 1").await,
        [
            "partitions: 3 (reader)",
            "sql: SELECT abalance FROM accounts WHERE aid = 1"
        ]
    );
    assert_eq!(
        plan("SELECT bid, count(*) FROM accounts GROUP BY bid ORDER BY bid").await,
        [
            "partitions: 0, 1, 2, 3 (reader)",
            "sql on each: SELECT bid, count(*) AS \"count\" FROM accounts GROUP BY bid ORDER BY bid NULLS LAST",
            "merge: concatenate, group by [0] Sum(#1), sort #0 asc"
        ]
    );
    assert_eq!(
        plan("INSERT INTO accounts (aid, bid, abalance) VALUES (1, 1, 0), (2, 1, 0)").await,
        [
            "partitions: 0, 3 (writer)",
            "sql on 0: INSERT INTO accounts (aid, bid, abalance) VALUES (pg_assign('accounts', 'aid', 2), \
             pg_assign('accounts', 'bid', 1), pg_assign('accounts', 'abalance', 0))",
            "sql on 3: INSERT INTO accounts (aid, bid, abalance) VALUES (pg_assign('accounts', 'aid', 1), \
             pg_assign('accounts', 'bid', 1), pg_assign('accounts', 'abalance', 0))",
            "commit: all-or-nothing across the partitions"
        ]
    );
    let refused = plan("SELECT count(*) FROM accounts a JOIN history h ON a.bid = h.delta").await;
    assert!(refused[0].starts_with("refused: "), "{refused:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_cannot_be_placed_or_merged_is_refused() {
    let config: Config = toml::from_str(MAP).unwrap();
    let split = TestServer::start_with(config).await;
    let c = split.client().await;
    load(&c).await;
    for sql in [
        "SELECT bid, count(*) FROM accounts GROUP BY bid HAVING count(*) > 1",
        "SELECT count(*) FROM accounts a JOIN history h ON a.bid = h.delta",
        // The map finds rows by table name and key column; these would lose track of them.
        "ALTER TABLE accounts RENAME TO accounts_old",
        "ALTER TABLE accounts DROP COLUMN aid",
    ] {
        let err = c.simple_query(sql).await.unwrap_err();
        assert_eq!(sqlstate(&err), "0A000", "{sql}: {err:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hints_route_to_the_named_partition() {
    let split = TestServer::start_with(toml::from_str(MAP).unwrap()).await;
    let c = split.client().await;
    load(&c).await;
    let in_file = |p: usize| {
        let db =
            rusqlite::Connection::open(split.data_dir().join("postgres").join(format!("{p}.db")))
                .unwrap();
        db.query_row("SELECT count(*) FROM accounts", [], |r| r.get::<_, i64>(0))
            .unwrap()
    };
    let count = |sql: &'static str| {
        let c = &c;
        async move { c.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    assert_eq!(
        count("/* partition: 1 */ SELECT count(*) FROM accounts").await,
        in_file(1)
    );
    c.batch_execute("SET litescale.partition = 2")
        .await
        .unwrap();
    assert_eq!(count("SELECT count(*) FROM accounts").await, in_file(2));
    c.batch_execute("RESET litescale.partition").await.unwrap();
    assert_eq!(count("SELECT count(*) FROM accounts").await, 200);
    c.batch_execute("SET litescale.partition = 'x'")
        .await
        .unwrap();
    let err = c
        .query("SELECT count(*) FROM accounts", &[])
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "22023");
    c.batch_execute("RESET litescale.partition").await.unwrap();
    let err = c
        .query("/* partition: 7 */ SELECT 1", &[])
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "0A000");
}

/// A schema's table is partitioned as the config names it (`[tables."app.items"]`): each
/// row lands in the file of the partition its key hashes to and reads back by its
/// qualified name; a search path naming the schema is refused, as statements are routed by
/// their names as written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schemas_table_is_partitioned_under_its_qualified_name() {
    let config: Config =
        toml::from_str(&format!("{MAP}\n[tables.\"app.items\"]\nkey = \"id\"\n")).unwrap();
    let map = config.partition_map().unwrap();
    let split = TestServer::start_with(config).await;
    let c = split.client().await;
    c.batch_execute("CREATE SCHEMA app; CREATE TABLE app.items (id int PRIMARY KEY, sku text)")
        .await
        .unwrap();
    for id in 1..=20i32 {
        c.execute(
            "INSERT INTO app.items VALUES ($1, $2)",
            &[&id, &format!("s{id}")],
        )
        .await
        .unwrap();
    }
    let mut used = std::collections::BTreeSet::new();
    for id in 1..=20i64 {
        let p = map.partition_of("app.items", &KeyValue::Int(id)).unwrap();
        used.insert(p);
        let file = split.data_dir().join("postgres").join(format!("{p}.db"));
        let db = rusqlite::Connection::open(file).unwrap();
        let here: i64 = db
            .query_row(
                "SELECT count(*) FROM \"app.items\" WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(here, 1, "row {id} in partition {p}");
    }
    assert!(used.len() > 1, "the rows spread over partitions: {used:?}");
    let total: i64 = c
        .query_one("SELECT count(*) FROM app.items", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(total, 20);
    let sku: String = c
        .query_one("SELECT sku FROM app.items WHERE id = 7", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(sku, "s7");
    c.batch_execute("SET search_path TO app, public")
        .await
        .unwrap();
    let err = c
        .simple_query("SELECT count(*) FROM items")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "0A000", "{err:?}");
}
