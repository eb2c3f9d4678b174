//! Limits that keep one client from taking the server: connections, statement time, time
//! idle inside a transaction.

use std::time::Duration;

use litescale_config::Config;

use crate::harness::{TestServer, conninfo, sqlstate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_past_max_connections_gets_53300() {
    let mut config = Config::default();
    config.limits.max_connections = 2;
    // No slots reserved for admin users: here every slot is anyone's.
    config.limits.superuser_reserved_connections = 0;
    let server = TestServer::start_with(config).await;
    let first = server.client().await;
    let second = server.client().await;
    let err = match tokio_postgres::connect(&server.conninfo(), tokio_postgres::NoTls).await {
        Err(e) => e,
        Ok(_) => panic!("a third connection was accepted"),
    };
    assert_eq!(sqlstate(&err), "53300", "{err:?}");
    // The others carry on, and a freed slot is reused.
    first.simple_query("SELECT 1").await.unwrap();
    drop(second);
    tokio::time::sleep(Duration::from_millis(200)).await;
    server
        .client()
        .await
        .simple_query("SELECT 1")
        .await
        .unwrap();
}

const SLOW: &str = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) SELECT count(*) FROM c";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_timeout_interrupts_a_long_query_with_57014() {
    let server = TestServer::start().await;
    let c = server.client().await;
    let err = c
        .batch_execute("SET statement_timeout = 'soon'")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "22023");
    c.batch_execute("SET statement_timeout = '200ms'")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let err = c.simple_query(SLOW).await.unwrap_err();
    assert_eq!(sqlstate(&err), "57014", "{err:?}");
    let message = err.as_db_error().map(|e| e.message().to_owned());
    assert_eq!(
        message.as_deref(),
        Some("canceling statement due to statement timeout")
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    // Quick statements are unaffected, and the session goes on.
    c.simple_query("SELECT 1").await.unwrap();
    c.batch_execute("RESET statement_timeout").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_timeout_interrupts_a_long_autocommit_write_and_nothing_of_it_stays() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (a INT); INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    c.batch_execute("SET statement_timeout = '200ms'")
        .await
        .unwrap();
    // Rows inserted one by one, without end.
    let endless = "INSERT INTO t WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
                   SELECT x FROM c";
    let err = tokio::time::timeout(Duration::from_secs(30), c.execute(endless, &[]))
        .await
        .expect("the write must be interrupted")
        .unwrap_err();
    assert_eq!(sqlstate(&err), "57014", "{err:?}");
    c.batch_execute("RESET statement_timeout").await.unwrap();
    let n: i64 = c
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1, "an interrupted write leaves nothing behind");
    c.execute("INSERT INTO t VALUES (2)", &[]).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_left_idle_is_rolled_back_and_its_connection_ended_with_25p03() {
    let server = TestServer::start().await;
    let other = server.client().await;
    other
        .batch_execute("CREATE TABLE t (id INT PRIMARY KEY, v INT); INSERT INTO t VALUES (1, 0)")
        .await
        .unwrap();
    let (idle, connection) = tokio_postgres::connect(&conninfo(server.addr), tokio_postgres::NoTls)
        .await
        .unwrap();
    let ended = tokio::spawn(connection);
    idle.batch_execute("SET idle_in_transaction_session_timeout = '300ms'")
        .await
        .unwrap();
    // Outside a transaction, idling is fine.
    tokio::time::sleep(Duration::from_millis(500)).await;
    idle.batch_execute("BEGIN; UPDATE t SET v = 1 WHERE id = 1")
        .await
        .unwrap();
    // The idle transaction held the writer; the timeout releases it.
    tokio::time::timeout(
        Duration::from_secs(10),
        other.batch_execute("UPDATE t SET v = 2 WHERE id = 1"),
    )
    .await
    .expect("the idle transaction's writer was released")
    .unwrap();
    let err = ended.await.unwrap().unwrap_err();
    assert_eq!(sqlstate(&err), "25P03", "{err:?}");
    assert!(idle.simple_query("SELECT 1").await.is_err());
    let v: i32 = other
        .query_one("SELECT v FROM t WHERE id = 1", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(v, 2, "the idle transaction's update was rolled back");
}

/// The server's peak resident memory, from /proc.
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_select_streams_instead_of_sitting_in_memory() {
    use futures::StreamExt;
    let data = tempfile::tempdir().unwrap();
    let server = crate::harness::ServerProcess::start(data.path());
    let c = crate::harness::connect(server.addr).await;
    c.simple_query("SELECT 1").await.unwrap();
    let before = peak_rss_kib(server.child.id());
    // About 250 MB of result text.
    let rows = c
        .simple_query_raw("SELECT x, printf('%0240d', x) FROM generate_series(1, 1000000) AS g(x)")
        .await
        .unwrap();
    futures::pin_mut!(rows);
    let mut count = 0u64;
    while let Some(message) = rows.next().await {
        if let tokio_postgres::SimpleQueryMessage::Row(_) = message.unwrap() {
            count += 1;
        }
    }
    assert_eq!(count, 1_000_000);
    let grown_mib = (peak_rss_kib(server.child.id()) - before) / 1024;
    assert!(
        grown_mib < 64,
        "the server's peak memory grew by {grown_mib} MiB for a 250 MB result"
    );
}
