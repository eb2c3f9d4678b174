//! Enum types as sessions share them: a label added by one session orders the next read of
//! another (no connection keeps an old order), a rolled-back change leaves none behind, and
//! a partitioned table's rows group across partitions, and a sort by the declared order across
//! partitions, which the merge cannot do, is refused.

use litescale_config::Config;

use crate::harness::{TestServer, simple_rows, sqlstate};

async fn column(c: &tokio_postgres::Client, sql: &str) -> Vec<String> {
    simple_rows(&c.simple_query(sql).await.unwrap())
        .into_iter()
        .map(|r| r[0].clone().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn a_label_one_session_adds_orders_what_another_reads_next() {
    let server = TestServer::start().await;
    let (a, b) = (server.client().await, server.client().await);
    a.batch_execute(
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
         CREATE TABLE person (id int PRIMARY KEY, m mood);
         CREATE INDEX person_m ON person (m);
         INSERT INTO person VALUES (1, 'happy'), (2, 'sad'), (3, 'ok')",
    )
    .await
    .unwrap();
    let ordered = "SELECT m::text FROM person ORDER BY m";
    let by_index = "SELECT m::text FROM person WHERE m > 'sad' ORDER BY m";
    // Read once, so the statements and the collation are in the connection's hands.
    assert_eq!(column(&a, ordered).await, ["sad", "ok", "happy"]);
    assert_eq!(column(&a, by_index).await, ["ok", "happy"]);

    b.batch_execute(
        "ALTER TYPE mood ADD VALUE 'meh' BEFORE 'sad'; INSERT INTO person VALUES (4, 'meh')",
    )
    .await
    .unwrap();
    assert_eq!(column(&a, ordered).await, ["meh", "sad", "ok", "happy"]);
    assert_eq!(column(&a, by_index).await, ["ok", "happy"]);
    let prepared = a.prepare(ordered).await.unwrap();
    b.batch_execute(
        "ALTER TYPE mood ADD VALUE 'elated' AFTER 'ok'; INSERT INTO person VALUES (5, 'elated')",
    )
    .await
    .unwrap();
    let rows: Vec<String> = a
        .query(&prepared, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(rows, ["meh", "sad", "ok", "elated", "happy"]);

    // A change rolled back is gone for everyone.
    b.batch_execute("BEGIN; ALTER TYPE mood ADD VALUE 'zen' BEFORE 'meh'")
        .await
        .unwrap();
    b.batch_execute("ROLLBACK").await.unwrap();
    let e = a
        .batch_execute("INSERT INTO person VALUES (6, 'zen')")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "22P02");
    assert_eq!(
        column(&a, ordered).await,
        ["meh", "sad", "ok", "elated", "happy"]
    );
    // Still in use: the type stays.
    let e = a.batch_execute("DROP TYPE mood").await.unwrap_err();
    assert_eq!(sqlstate(&e), "2BP01");
}

const MAP: &str = r#"
[partitions]
count = 4

[tables.tickets]
key = "id"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_table_groups_its_labels_and_refuses_to_sort_them_across_partitions() {
    let config: Config = toml::from_str(MAP).unwrap();
    let server = TestServer::start_with(config).await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TYPE status AS ENUM ('open', 'working', 'closed');
         CREATE TABLE tickets (id int PRIMARY KEY, s status NOT NULL)",
    )
    .await
    .unwrap();
    let labels = ["closed", "open", "working"];
    for id in 1..=40 {
        c.execute(
            "INSERT INTO tickets VALUES ($1, $2)",
            &[&id, &labels[id as usize % 3]],
        )
        .await
        .unwrap();
    }
    let e = c
        .batch_execute("INSERT INTO tickets VALUES (41, 'lost')")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "22P02");
    // Grouping needs equal labels only; every partition's rows count.
    let mut counts: Vec<Vec<Option<String>>> = simple_rows(
        &c.simple_query("SELECT s, count(*) FROM tickets GROUP BY s")
            .await
            .unwrap(),
    );
    counts.sort();
    let expected: Vec<Vec<Option<String>>> = [("closed", "13"), ("open", "14"), ("working", "13")]
        .iter()
        .map(|(s, n)| vec![Some(s.to_string()), Some(n.to_string())])
        .collect();
    assert_eq!(counts, expected);
    // The merge cannot sort by the declared order: refused, never another order.
    for sql in [
        "SELECT s, id FROM tickets ORDER BY s, id LIMIT 3",
        "SELECT s FROM tickets GROUP BY s ORDER BY s",
        "SELECT id, s FROM tickets ORDER BY s DESC, id",
        "SELECT min(s) FROM tickets",
        "SELECT max(t.s), count(*) FROM tickets t",
    ] {
        let e = c.simple_query(sql).await.unwrap_err();
        assert_eq!(sqlstate(&e), "0A000", "{sql}");
    }
    // A definition written over in place (the enum's collation above, a comment here) is
    // one schema change of every partition's part, replayable: it once failed to record.
    c.batch_execute(
        "COMMENT ON TABLE tickets IS 'work'; ALTER TABLE tickets ALTER COLUMN s DROP NOT NULL",
    )
    .await
    .unwrap();
    let comment = column(
        &c,
        "SELECT obj_description('tickets'::regclass, 'pg_class')",
    )
    .await;
    assert_eq!(comment, ["work"]);
    c.batch_execute("INSERT INTO tickets VALUES (41, NULL)")
        .await
        .unwrap();
    // Within one partition the order is the declared one.
    let one = column(&c, "SELECT s FROM tickets WHERE id = 4 ORDER BY s").await;
    assert_eq!(one, ["open"]);
}
