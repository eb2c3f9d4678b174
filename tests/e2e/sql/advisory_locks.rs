//! Advisory locks between sessions: a wait ends when the holder unlocks, commits (a
//! transaction's lock) or disconnects, or when the waiter is canceled; keys come as bound
//! parameters too.

use std::time::{Duration, Instant};

use crate::harness::{TestServer, sqlstate};

#[tokio::test]
async fn a_waiter_gets_the_lock_when_its_holder_lets_go_in_any_way() {
    let server = TestServer::start().await;
    let holder = server.client().await;
    let waiter = std::sync::Arc::new(server.client().await);
    let lock = "SELECT pg_advisory_lock($1)";

    // Released by unlocking: the waiter's extended-protocol call, key bound as int8.
    holder.execute(lock, &[&72707369_i64]).await.unwrap();
    let waiting = {
        let waiter = std::sync::Arc::clone(&waiter);
        tokio::spawn(async move {
            let start = Instant::now();
            waiter.execute(lock, &[&72707369_i64]).await.unwrap();
            start.elapsed()
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !waiting.is_finished(),
        "the waiter must wait while the lock is held"
    );
    let unlocked: bool = holder
        .query_one("SELECT pg_advisory_unlock($1)", &[&72707369_i64])
        .await
        .unwrap()
        .get(0);
    assert!(unlocked);
    assert!(waiting.await.unwrap() >= Duration::from_millis(200));
    let taken: bool = holder
        .query_one("SELECT pg_try_advisory_lock(72707369)", &[])
        .await
        .unwrap()
        .get(0);
    assert!(!taken, "the waiter holds it now");

    // Released by the end of the holder's transaction.
    holder
        .batch_execute("BEGIN; SELECT pg_advisory_xact_lock(5, 6)")
        .await
        .unwrap();
    let try_pair = "SELECT pg_try_advisory_lock(5, 6)";
    let free: bool = waiter.query_one(try_pair, &[]).await.unwrap().get(0);
    assert!(!free);
    holder.batch_execute("COMMIT").await.unwrap();
    let free: bool = waiter.query_one(try_pair, &[]).await.unwrap().get(0);
    assert!(free);

    // Released by the holder's disconnection.
    drop(holder);
    let third = server.client().await;
    third
        .batch_execute("SET statement_timeout = 5000")
        .await
        .unwrap();
    drop(waiter);
    third.execute(lock, &[&72707369_i64]).await.unwrap();

    // A wait that statement_timeout ends is canceled, and the session carries on.
    let fourth = server.client().await;
    fourth
        .batch_execute("SET statement_timeout = 200")
        .await
        .unwrap();
    let err = fourth.execute(lock, &[&72707369_i64]).await.unwrap_err();
    assert_eq!(sqlstate(&err), "57014");
    fourth.batch_execute("SELECT 1").await.unwrap();
}
