//! A client that leaves while its statement runs stops that statement: its transaction is
//! rolled back and the partition's writer it held is released for the others, rather than
//! the statement running on for nobody.

use std::time::{Duration, Instant};

use crate::harness::{RawClient, TestServer, simple_rows};

const SLOW: &str = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) SELECT count(*) FROM c";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_leaves_mid_statement_releases_the_writer_it_held() {
    let server = TestServer::start().await;
    let other = server.client().await;
    other
        .batch_execute("CREATE TABLE t (id INT PRIMARY KEY)")
        .await
        .unwrap();
    // The block writes, so its long read runs on the partition's writer.
    let mut leaver = RawClient::connect(server.addr).await;
    let query = format!("BEGIN; INSERT INTO t VALUES (1); {SLOW}\0");
    leaver.send(b'Q', query.as_bytes()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(leaver);

    // Another writer gets the partition soon; without the check it would wait the whole
    // statement out (minutes) and meet its own timeout.
    other
        .batch_execute("SET statement_timeout = '30s'")
        .await
        .unwrap();
    let started = Instant::now();
    other
        .batch_execute("INSERT INTO t VALUES (2)")
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the writer was held {:?} after its client left",
        started.elapsed()
    );
    let rows = simple_rows(&other.simple_query("SELECT id FROM t").await.unwrap());
    assert_eq!(rows, vec![vec![Some("2".to_owned())]]);
}
