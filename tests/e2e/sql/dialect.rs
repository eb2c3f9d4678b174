//! PostgreSQL SQL that SQLite spells differently, translated by the router.

use crate::harness::{TestServer, simple_rows, sqlstate};

#[tokio::test]
async fn serial_upsert_returning_and_default_values() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE users (id SERIAL PRIMARY KEY, email VARCHAR(50) UNIQUE NOT NULL,
                             visits INT NOT NULL DEFAULT 0, active BOOLEAN DEFAULT true)",
    )
    .await
    .unwrap();
    let id: i32 = c
        .query_one(
            "INSERT INTO users (email) VALUES ($1) RETURNING id",
            &[&"a@x"],
        )
        .await
        .unwrap()
        .get(0);
    let id2: i32 = c
        .query_one("INSERT INTO users (email) VALUES ('b@x') RETURNING id", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!((id, id2), (1, 2));
    let visits: i32 = c
        .query_one(
            "INSERT INTO users (email) VALUES ($1)
             ON CONFLICT (email) DO UPDATE SET visits = users.visits + 1
             RETURNING visits",
            &[&"a@x"],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(visits, 1);
    let n = c
        .execute(
            "INSERT INTO users (email) VALUES ('a@x') ON CONFLICT DO NOTHING",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(n, 0);
    c.batch_execute("CREATE TABLE log (id SERIAL PRIMARY KEY, at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP); INSERT INTO log DEFAULT VALUES")
        .await
        .unwrap();
    let active: bool = c
        .query_one("SELECT active FROM users WHERE id = 1", &[])
        .await
        .unwrap()
        .get(0);
    assert!(active);
}

#[tokio::test]
async fn short_inserts_default_and_null_keys_are_written_as_postgres_writes_them() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (id SERIAL PRIMARY KEY, s TEXT, n INT DEFAULT 7)")
        .await
        .unwrap();
    c.batch_execute("INSERT INTO t VALUES (11, 'out of a block')")
        .await
        .unwrap();
    // Inside a block, the refused short INSERT runs again on the block's writer.
    c.batch_execute(
        "BEGIN; INSERT INTO t VALUES (12); INSERT INTO t (s, n) VALUES ('d', DEFAULT); COMMIT",
    )
    .await
    .unwrap();
    c.batch_execute("UPDATE t SET n = DEFAULT WHERE id = 12")
        .await
        .unwrap();
    let rows = simple_rows(
        &c.simple_query("SELECT id, s, n FROM t ORDER BY id")
            .await
            .unwrap(),
    );
    let text = |v: [&str; 3]| v.map(|s| (s != "NULL").then(|| s.to_owned())).to_vec();
    assert_eq!(
        rows,
        [
            // The SERIAL's sequence numbers the row without an id, whatever ids are taken.
            text(["1", "d", "7"]),
            text(["11", "out of a block", "7"]),
            text(["12", "NULL", "7"]),
        ]
    );
    let null_key = c
        .batch_execute("INSERT INTO t VALUES (NULL, 'x')")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&null_key), "23502");
    let long = c
        .batch_execute("INSERT INTO t VALUES (9, 'x', 1, 2)")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&long), "42601");
}

#[tokio::test]
async fn identifiers_fold_to_lower_case_unless_quoted() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE Items (ID INT, \"MixedCase\" TEXT); INSERT INTO ITEMS VALUES (1, 'x')",
    )
    .await
    .unwrap();
    let stmt = c
        .prepare("SELECT Id, \"MixedCase\" FROM items")
        .await
        .unwrap();
    let names: Vec<&str> = stmt.columns().iter().map(|c| c.name()).collect();
    assert_eq!(names, ["id", "MixedCase"]);
    let stmt = c
        .prepare("SELECT count(*), 1, now() FROM items")
        .await
        .unwrap();
    let names: Vec<&str> = stmt.columns().iter().map(|c| c.name()).collect();
    assert_eq!(names, ["count", "?column?", "now"]);
}

#[tokio::test]
async fn functions_operators_and_casts() {
    let server = TestServer::start().await;
    let c = server.client().await;
    let r = c
        .query_one(
            "SELECT current_database(), current_user, current_schema(), version(),
                    'Ab' || 'c', 'abc' ILIKE 'A%', 'abc' LIKE 'A%', '42'::int + 1,
                    position('c' in 'abc'), substring('hello' from 2 for 3), 7 / 2, 7.0 / 2",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.get::<_, &str>(0), "postgres");
    assert_eq!(r.get::<_, &str>(1), "postgres");
    assert_eq!(r.get::<_, &str>(2), "public");
    assert!(r.get::<_, &str>(3).starts_with("PostgreSQL 15.18"));
    assert_eq!(r.get::<_, &str>(4), "Abc");
    assert!(r.get::<_, bool>(5));
    assert!(
        !r.get::<_, bool>(6),
        "LIKE is case-sensitive, as in Postgres"
    );
    assert_eq!(r.get::<_, i32>(7), 43);
    assert_eq!(r.get::<_, i32>(8), 3);
    assert_eq!(r.get::<_, &str>(9), "ell");
    assert_eq!(r.get::<_, i32>(10), 3);
    let pid: i32 = c
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    assert!(pid > 0);
    let now: chrono::DateTime<chrono::Utc> = c.query_one("SELECT now()", &[]).await.unwrap().get(0);
    assert!((chrono::Utc::now() - now).num_seconds().abs() < 60);
    let err = c.simple_query("SELECT 1 / 0").await.unwrap_err();
    assert_eq!(sqlstate(&err), "22012");
    // NULL sorts last ascending and first descending, as in Postgres (SQLite: first).
    let m = c
        .simple_query("SELECT x FROM (VALUES (1), (NULL), (2)) AS v(x) ORDER BY x")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&m),
        [[Some("1".to_owned())], [Some("2".to_owned())], [None]]
    );
    let m = c
        .simple_query("SELECT x FROM (VALUES (1), (NULL)) AS v(x) ORDER BY x DESC")
        .await
        .unwrap();
    assert_eq!(simple_rows(&m), [[None], [Some("1".to_owned())]]);
    let m = c
        .simple_query("SELECT sum(g) FROM generate_series(1, 100) AS g")
        .await
        .unwrap();
    assert_eq!(simple_rows(&m)[0][0].as_deref(), Some("5050"));
}

#[tokio::test]
async fn multi_object_ddl_and_maintenance() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE a (x INT NOT NULL) WITH (fillfactor = 90);
         CREATE TABLE b (y INT);
         INSERT INTO a VALUES (1), (2); INSERT INTO b VALUES (3);
         ALTER TABLE a ADD PRIMARY KEY (x);",
    )
    .await
    .unwrap();
    c.batch_execute("VACUUM ANALYZE a").await.unwrap();
    c.batch_execute("VACUUM").await.unwrap();
    // As in Postgres, not inside a transaction block (a multi-statement string is one).
    for sql in ["BEGIN; VACUUM", "SELECT 1; VACUUM"] {
        let err = c.batch_execute(sql).await.unwrap_err();
        assert_eq!(sqlstate(&err), "25001", "{sql}");
        c.batch_execute("ROLLBACK").await.unwrap();
    }
    let err = c
        .batch_execute("INSERT INTO a VALUES (1)")
        .await
        .unwrap_err();
    assert_eq!(
        sqlstate(&err),
        "23505",
        "ADD PRIMARY KEY enforces uniqueness"
    );
    c.batch_execute("TRUNCATE a, b").await.unwrap();
    let n: i64 = c
        .query_one(
            "SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    c.batch_execute("DROP TABLE IF EXISTS a, b, never_existed")
        .await
        .unwrap();
    let err = c.batch_execute("SELECT * FROM a").await.unwrap_err();
    assert_eq!(sqlstate(&err), "42P01");
    let err = c.batch_execute("DROP TABLE a").await.unwrap_err();
    assert_eq!(sqlstate(&err), "42P01");
}

#[tokio::test]
async fn declared_lengths_are_enforced() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (code VARCHAR(3), flag CHAR(1))")
        .await
        .unwrap();
    c.batch_execute("INSERT INTO t VALUES ('abc', 'y')")
        .await
        .unwrap();
    let err = c
        .batch_execute("INSERT INTO t VALUES ('abcd', 'y')")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "22001");
    let message = err
        .as_db_error()
        .map(|e| e.message().to_owned())
        .unwrap_or_default();
    assert_eq!(message, "value too long for type character varying(3)");
    let err = c
        .execute("UPDATE t SET flag = $1", &[&"no"])
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "22001");
}

#[tokio::test]
async fn date_functions_and_interval_arithmetic() {
    use chrono::{NaiveDate, NaiveDateTime};
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE e (at TIMESTAMP, tz TIMESTAMPTZ)")
        .await
        .unwrap();
    let at = NaiveDate::from_ymd_opt(2024, 2, 29)
        .unwrap()
        .and_hms_opt(13, 45, 30)
        .unwrap();
    c.execute("INSERT INTO e VALUES ($1, $2)", &[&at, &at.and_utc()])
        .await
        .unwrap();
    let r = c
        .query_one(
            "SELECT extract(year from at), date_part('month', at), date_trunc('day', at),
                    at + interval '1 day 2 hours', at - interval '30 minutes',
                    date_trunc('hour', tz), extract(dow from tz)
             FROM e",
            &[],
        )
        .await
        .unwrap();
    // extract gives numeric (Postgres 14+), which tokio-postgres has no type for.
    let m = c
        .simple_query("SELECT extract(year from at) FROM e")
        .await
        .unwrap();
    assert_eq!(simple_rows(&m)[0][0].as_deref(), Some("2024"));
    assert_eq!(r.get::<_, f64>(1), 2.0);
    let day: NaiveDateTime = r.get(2);
    assert_eq!(day, at.date().and_hms_opt(0, 0, 0).unwrap());
    let later: NaiveDateTime = r.get(3);
    assert_eq!(
        later,
        NaiveDate::from_ymd_opt(2024, 3, 1)
            .unwrap()
            .and_hms_opt(15, 45, 30)
            .unwrap()
    );
    let earlier: NaiveDateTime = r.get(4);
    assert_eq!(earlier, at.date().and_hms_opt(13, 15, 30).unwrap());
    let hour: chrono::DateTime<chrono::Utc> = r.get(5);
    assert_eq!(hour.naive_utc(), at.date().and_hms_opt(13, 0, 0).unwrap());
    let m = c
        .simple_query("SELECT extract(century from at), at - at, at::date + 1 FROM e")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&m)[0],
        [
            Some("21".into()),
            Some("00:00:00".into()),
            Some("2024-03-01".into())
        ]
    );
    let err = c
        .simple_query("SELECT extract(fortnight from at) FROM e")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "22023");
}

/// Statements whose translation depends on a column's type are planned again with the
/// table's columns, which the server caches: a changed table is read again, from another
/// session, inside a block that changed it, and through Parse/Describe/Execute.
#[tokio::test]
async fn plans_that_need_column_types_follow_the_schema_as_it_changes() {
    let server = TestServer::start().await;
    let (a, b) = (server.client().await, server.client().await);
    a.batch_execute("CREATE TABLE t (x boolean); INSERT INTO t VALUES (true)")
        .await
        .unwrap();
    assert_eq!(
        first_cell(&a, "SELECT pg_typeof(x) FROM t").await,
        "boolean"
    );
    assert_eq!(
        first_cell(&b, "SELECT count(*) FROM t WHERE x = 'yes'").await,
        "1"
    );
    // Another session changes the table: the cached columns are not used again.
    b.batch_execute("DROP TABLE t; CREATE TABLE t (x numeric(6,2)); INSERT INTO t VALUES (1.5)")
        .await
        .unwrap();
    assert_eq!(
        first_cell(&a, "SELECT pg_typeof(x) FROM t").await,
        "numeric"
    );
    assert_eq!(first_cell(&a, "SELECT x * 2 FROM t").await, "3.00");
    // A block sees the table it changed before anyone else does; after its rollback, no
    // one sees the change.
    a.batch_execute("BEGIN; ALTER TABLE t ADD COLUMN u uuid")
        .await
        .unwrap();
    assert_eq!(first_cell(&a, "SELECT pg_typeof(u) FROM t").await, "uuid");
    let compares_u = "SELECT count(*) FROM t WHERE u = 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'";
    assert_eq!(
        sqlstate(&b.simple_query(compares_u).await.unwrap_err()),
        "42703"
    );
    a.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(
        sqlstate(&a.simple_query(compares_u).await.unwrap_err()),
        "42703"
    );
    // Committed, the change reaches the session that read the columns while it ran.
    a.batch_execute(
        "BEGIN; ALTER TABLE t ADD COLUMN u uuid;
         UPDATE t SET u = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",
    )
    .await
    .unwrap();
    assert!(b.simple_query(compares_u).await.is_err());
    a.batch_execute("COMMIT").await.unwrap();
    assert_eq!(first_cell(&b, compares_u).await, "1");
    // The extended protocol describes and runs the plan made with the columns.
    let row = a
        .query_one(
            "SELECT pg_typeof(x)::text FROM t WHERE $1::int > 0",
            &[&3i32],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "numeric");
    // A type that does not exist is 42704, as in Postgres; one litescale keeps as text
    // (money) does not settle pg_typeof, which stays refused, with the construct named.
    let missing = a
        .batch_execute("CREATE TABLE w (y sometype)")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&missing), "42704");
    a.batch_execute("CREATE TABLE w (y money)").await.unwrap();
    let refused = a
        .simple_query("SELECT pg_typeof(y) FROM w")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&refused), "0A000");
}

/// A data-modifying statement in WITH runs first and the query reads what it returned,
/// in one transaction: a failing query undoes it.
#[tokio::test]
async fn data_modifying_with_runs_first_and_fails_as_one() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE jobs (id int PRIMARY KEY, state text);
         INSERT INTO jobs VALUES (1, 'new'), (2, 'new'), (3, 'done')",
    )
    .await
    .unwrap();
    let rows = c
        .query(
            "WITH taken AS (UPDATE jobs SET state = 'taken' WHERE state = 'new' RETURNING id)
             SELECT id FROM taken ORDER BY id",
            &[],
        )
        .await
        .unwrap();
    let ids: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(ids, [1, 2]);
    let count = |sql: &'static str| {
        let c = &c;
        async move {
            simple_rows(&c.simple_query(sql).await.unwrap())[0][0]
                .clone()
                .unwrap()
        }
    };
    assert_eq!(
        count("SELECT count(*) FROM jobs WHERE state = 'taken'").await,
        "2"
    );
    // The query after it fails (division by zero): the DELETE is undone.
    let failed = c
        .simple_query("WITH gone AS (DELETE FROM jobs RETURNING id) SELECT 1 / (id - id) FROM gone")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&failed), "22012");
    assert_eq!(count("SELECT count(*) FROM jobs").await, "3");
    // Inside a block, with no row returned, and without RETURNING.
    c.batch_execute("BEGIN").await.unwrap();
    assert_eq!(
        count(
            "WITH none AS (DELETE FROM jobs WHERE id = 9 RETURNING id) SELECT count(*) FROM none"
        )
        .await,
        "0"
    );
    assert_eq!(
        count("WITH added AS (INSERT INTO jobs VALUES (4, 'new')) SELECT 'ok'").await,
        "ok"
    );
    c.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(count("SELECT count(*) FROM jobs").await, "3");
    // Parameters are refused, naming the construct.
    let refused = c
        .query(
            "WITH d AS (DELETE FROM jobs WHERE id = $1 RETURNING id) SELECT id FROM d",
            &[&1i32],
        )
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&refused), "0A000");
}

/// The first column of the first row a simple query answers.
async fn first_cell(c: &tokio_postgres::Client, sql: &str) -> String {
    simple_rows(&c.simple_query(sql).await.unwrap())[0][0]
        .clone()
        .unwrap()
}
