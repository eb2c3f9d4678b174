//! A result that is materialised (not streamed) is bounded per statement by
//! `limits.max_result_mb`: past it the statement fails with 54000 and the session, and
//! every other, carries on.

use litescale_config::Config;

use crate::harness::{TestServer, sqlstate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_materialised_result_past_max_result_mb_gets_54000_and_the_session_goes_on() {
    let mut config = Config::default();
    config.limits.max_result_mb = 1;
    let server = TestServer::start_with(config).await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (id INT PRIMARY KEY, v TEXT)")
        .await
        .unwrap();
    // 4,000 rows of 1 KB: 4 MB, past the 1 MiB bound.
    let kilobyte = "x".repeat(1000);
    let big = format!("SELECT id, v || '{kilobyte}' FROM t");
    c.batch_execute("INSERT INTO t SELECT g, 'v' FROM generate_series(1, 4000) AS g")
        .await
        .unwrap();
    // Inside a block that holds the writer, reads are materialised on it.
    c.batch_execute("BEGIN; UPDATE t SET v = 'w' WHERE id = 1")
        .await
        .unwrap();
    let err = c.simple_query(&big).await.map(|m| m.len()).unwrap_err();
    assert_eq!(sqlstate(&err), "54000", "{err:?}");
    let message = err.as_db_error().unwrap().message().to_owned();
    assert!(message.contains("max_result_mb"), "{message}");
    c.batch_execute("ROLLBACK").await.unwrap();
    // RETURNING of every row is materialised too.
    let err = c
        .simple_query(&format!("UPDATE t SET v = '{kilobyte}' RETURNING *"))
        .await
        .map(|m| m.len())
        .unwrap_err();
    assert_eq!(sqlstate(&err), "54000", "{err:?}");
    // Nothing was changed, and a small result in a block still answers.
    c.batch_execute("BEGIN; UPDATE t SET v = 'z' WHERE id = 2")
        .await
        .unwrap();
    let rows = c
        .query("SELECT count(*) FROM t WHERE v = 'v'", &[])
        .await
        .unwrap();
    assert_eq!(rows[0].get::<_, i64>(0), 3_999);
    c.batch_execute("COMMIT").await.unwrap();
    // Outside a block the same SELECT streams and is not bounded by it.
    let rows = server.client().await.query(&big, &[]).await.unwrap();
    assert_eq!(rows.len(), 4_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merged_read_over_partitions_is_bounded_as_a_whole() {
    let mut config: Config =
        toml::from_str("[partitions]\ncount = 8\n[tables.t]\nkey = \"id\"\n").unwrap();
    config.limits.max_result_mb = 1;
    let server = TestServer::start_with(config).await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (id INT PRIMARY KEY, v TEXT)")
        .await
        .unwrap();
    let kilobyte = "x".repeat(1000);
    let insert = c.prepare("INSERT INTO t VALUES ($1, $2)").await.unwrap();
    for id in 0..3_000i32 {
        c.execute(&insert, &[&id, &kilobyte]).await.unwrap();
    }
    // About 3 MB in all and under 1 MiB on each of the 8 partitions: only the merge
    // holds more than the bound.
    for partition in 0..8 {
        let sql = format!("/* partition: {partition} */ SELECT count(*) FROM t");
        let rows = c.query(&sql, &[]).await.unwrap();
        assert!(rows[0].get::<_, i64>(0) < 900, "partition {partition}");
    }
    let err = c
        .simple_query("SELECT id, v FROM t ORDER BY id")
        .await
        .map(|m| m.len())
        .unwrap_err();
    assert_eq!(sqlstate(&err), "54000", "{err:?}");
    // A narrower read merges as before.
    let rows = c
        .query("SELECT id FROM t WHERE id < 10 ORDER BY id", &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 10);
}
