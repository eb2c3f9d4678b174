//! CancelRequest interrupts the statement running on the other connection.

use std::time::Duration;

use crate::harness::{TestServer, cancel_after, sqlstate};

/// A query SQLite would run forever.
const ENDLESS: &str =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_interrupts_a_long_query_and_the_session_carries_on() {
    let server = TestServer::start().await;
    let c = server.client().await;
    let canceller = cancel_after(&c, 300);
    let err = tokio::time::timeout(Duration::from_secs(30), c.simple_query(ENDLESS))
        .await
        .expect("the query must be interrupted")
        .unwrap_err();
    assert_eq!(sqlstate(&err), "57014");
    canceller.await.unwrap();
    let one: i32 = c.query_one("SELECT 1", &[]).await.unwrap().get(0);
    assert_eq!(one, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_ends_a_wait_for_the_writer() {
    let server = TestServer::start().await;
    let holder = server.client().await;
    holder
        .batch_execute("CREATE TABLE t (a INT); BEGIN; INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    let waiter = server.client().await;
    let canceller = cancel_after(&waiter, 300);
    let err = tokio::time::timeout(
        Duration::from_secs(30),
        waiter.execute("INSERT INTO t VALUES (2)", &[]),
    )
    .await
    .expect("the wait must end")
    .unwrap_err();
    assert_eq!(sqlstate(&err), "57014");
    canceller.await.unwrap();
    holder.batch_execute("COMMIT").await.unwrap();
    waiter
        .execute("INSERT INTO t VALUES (3)", &[])
        .await
        .unwrap();
    let n: i64 = waiter
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_statement_fails_its_transaction_block() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (a INT)").await.unwrap();
    c.batch_execute("BEGIN; INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    let canceller = cancel_after(&c, 300);
    let err = c.simple_query(ENDLESS).await.unwrap_err();
    assert_eq!(sqlstate(&err), "57014");
    canceller.await.unwrap();
    let err = c.simple_query("SELECT 1").await.unwrap_err();
    assert_eq!(sqlstate(&err), "25P02");
    c.batch_execute("ROLLBACK").await.unwrap();
    let n: i64 = c
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}
