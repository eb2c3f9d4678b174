//! Many clients at once: readers never wait for the writer, writers queue instead of
//! failing, an open transaction is invisible to others until it commits.

use std::time::Duration;

use crate::harness::{TestServer, count_t as count};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_do_not_wait_for_a_long_write_transaction_and_writers_queue() {
    let server = TestServer::start().await;
    let writer = server.client().await;
    writer
        .batch_execute("CREATE TABLE t (a INT); INSERT INTO t VALUES (0)")
        .await
        .unwrap();
    writer
        .batch_execute("BEGIN; INSERT INTO t VALUES (1)")
        .await
        .unwrap();

    // A reader answers at once, and does not see the uncommitted row.
    let reader = server.client().await;
    let seen = tokio::time::timeout(Duration::from_secs(5), count(&reader))
        .await
        .expect("a reader must not wait for the writer");
    assert_eq!(seen, 1);

    // A second writer waits for the first to finish rather than failing with BUSY.
    let second = server.client().await;
    let pending = tokio::spawn(async move {
        second
            .execute("INSERT INTO t VALUES (2)", &[])
            .await
            .map(|_| second)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !pending.is_finished(),
        "the second writer must wait for the open transaction"
    );
    assert_eq!(count(&reader).await, 1);

    writer.batch_execute("COMMIT").await.unwrap();
    let second = tokio::time::timeout(Duration::from_secs(10), pending)
        .await
        .expect("second writer proceeds after commit")
        .unwrap()
        .expect("second writer succeeds");
    assert_eq!(count(&reader).await, 3);
    assert_eq!(count(&second).await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_all_succeed() {
    let server = TestServer::start().await;
    let setup = server.client().await;
    setup
        .batch_execute("CREATE TABLE t (client INT, n INT)")
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for client in 0..8i32 {
        let c = server.client().await;
        tasks.push(tokio::spawn(async move {
            for n in 0..25i32 {
                c.execute("INSERT INTO t VALUES ($1, $2)", &[&client, &n])
                    .await
                    .expect("no write may fail under concurrency");
                let _: i64 = c
                    .query_one("SELECT count(*) FROM t", &[])
                    .await
                    .unwrap()
                    .get(0);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(count(&setup).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_committed_write_is_visible_to_the_next_read_on_any_connection() {
    let server = TestServer::start().await;
    let a = server.client().await;
    let b = server.client().await;
    a.batch_execute("CREATE TABLE t (a INT)").await.unwrap();
    for i in 1..=50i64 {
        a.execute("INSERT INTO t VALUES (1)", &[]).await.unwrap();
        assert_eq!(count(&b).await, i, "read after write {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_mid_transaction_releases_the_writer() {
    let server = TestServer::start().await;
    let other = server.client().await;
    other.batch_execute("CREATE TABLE t (a INT)").await.unwrap();
    {
        let gone = server.client().await;
        gone.batch_execute("BEGIN; INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        // Dropping the client closes its socket without COMMIT.
    }
    let write = other.execute("INSERT INTO t VALUES (2)", &[]);
    tokio::time::timeout(Duration::from_secs(10), write)
        .await
        .expect("the writer is released when its holder disconnects")
        .unwrap();
    assert_eq!(
        count(&other).await,
        1,
        "the abandoned insert was rolled back"
    );
}

/// Group commit: many sessions' autocommit writes share transactions and fsyncs, yet each
/// statement keeps its own outcome — a duplicate key fails alone, RETURNING answers its
/// own row, and everything acknowledged is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_autocommit_writes_keep_their_own_outcomes() {
    let server = TestServer::start().await;
    let setup = server.client().await;
    setup
        .batch_execute("CREATE TABLE g (id INT PRIMARY KEY, client INT)")
        .await
        .unwrap();
    let mut clients = Vec::new();
    for client in 0..8i32 {
        let c = server.client().await;
        clients.push(tokio::spawn(async move {
            let mut duplicates = 0;
            for i in 0..150i32 {
                // Every tenth statement reuses the client's first key: a duplicate.
                let id = if i % 10 == 9 {
                    client * 1000
                } else {
                    client * 1000 + i
                };
                let inserted = c
                    .query(
                        "INSERT INTO g VALUES ($1, $2) RETURNING id, client",
                        &[&id, &client],
                    )
                    .await;
                match inserted {
                    Ok(rows) => {
                        assert_eq!(rows.len(), 1);
                        assert_eq!(
                            (rows[0].get::<_, i32>(0), rows[0].get::<_, i32>(1)),
                            (id, client)
                        );
                    }
                    Err(e) => {
                        assert_eq!(crate::harness::sqlstate(&e), "23505", "{e}");
                        assert_eq!(i % 10, 9, "only duplicates may fail");
                        duplicates += 1;
                    }
                }
            }
            duplicates
        }));
    }
    for client in clients {
        assert_eq!(client.await.unwrap(), 15);
    }
    let total: i64 = setup
        .query_one("SELECT count(*) FROM g", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(total, 8 * 135);
}

/// An endless statement, which runs until cancelled.
const ENDLESS: &str =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c";

/// A write runs on the thread of the session that sent it (no hop to a thread pool), so
/// that thread must hand its other sessions over once SQLite is busy for long: they are
/// served while a write runs without end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_write_does_not_stall_other_sessions() {
    others_are_served_while(&format!(
        "INSERT INTO t SELECT count(*) FROM ({ENDLESS}) AS s"
    ))
    .await;
}

/// Reads run on the session's thread too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_read_does_not_stall_other_sessions() {
    others_are_served_while(&format!("SELECT count(*) FROM ({ENDLESS}) AS s")).await;
}

/// Runs `endless` in a transaction block, checks that new sessions start and read while
/// it runs, then cancels it.
async fn others_are_served_while(endless: &str) {
    let server = TestServer::start().await;
    let runner = server.client().await;
    runner
        .batch_execute("CREATE TABLE t (a INT); INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    runner.batch_execute("BEGIN").await.unwrap();
    let token = runner.cancel_token();
    let endless = endless.to_owned();
    let running = tokio::spawn(async move { runner.execute(&endless, &[]).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A lane (a server thread) takes at most two more connections than twice the
    // emptiest lane's: three readers per lane make sure some share the runner's.
    let lanes = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut readers = Vec::new();
    for _ in 0..3 * lanes {
        let reader = tokio::time::timeout(Duration::from_secs(10), server.client())
            .await
            .expect("a session must start while the statement runs");
        for _ in 0..5 {
            let seen = tokio::time::timeout(Duration::from_secs(10), count(&reader))
                .await
                .expect("a reader must be served while the statement runs");
            assert_eq!(seen, 1);
        }
        readers.push(reader);
    }
    assert!(!running.is_finished(), "the statement runs until cancelled");
    token
        .cancel_query(tokio_postgres::NoTls)
        .await
        .expect("send CancelRequest");
    let err = tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the statement must be interrupted")
        .unwrap()
        .unwrap_err();
    assert_eq!(crate::harness::sqlstate(&err), "57014");
    assert_eq!(count(&readers[0]).await, 1);
}
