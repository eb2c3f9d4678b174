//! A read replica (`[storage] replica = true`) on another data directory: its files follow
//! the logs while it serves reads, each commit whole; writes are refused (25006) as on a
//! hot standby; once it has applied what the primary wrote, its file is the primary's,
//! page for page.

use std::time::{Duration, Instant};

use super::checkpointed;
use super::single_node::{config_with, one_node};
use crate::harness::{TestServer, sqlstate};

/// The rows of `items`, and those whose value is 'two'.
async fn count(c: &tokio_postgres::Client) -> Result<(i64, i64), tokio_postgres::Error> {
    c.query_one(
        "SELECT count(*), count(*) FILTER (WHERE v = 'two') FROM items",
        &[],
    )
    .await
    .map(|row| (row.get(0), row.get(1)))
}

/// Makes the replica's session `r` read after what the primary's session `p` wrote: the
/// primary's log position, as the replica's bookmark. Returns it.
pub(super) async fn read_after_primary(
    p: &tokio_postgres::Client,
    r: &tokio_postgres::Client,
) -> String {
    let position: String = p
        .query_one("SHOW litescale.log_position", &[])
        .await
        .unwrap()
        .get(0);
    r.batch_execute(&format!("SET litescale.read_after = '{position}'"))
        .await
        .unwrap();
    position
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_follows_the_log_serves_reads_and_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (_node, port) = one_node(dir.path());
    let primary = TestServer::start_with(config_with(port, "").unwrap()).await;
    let p = primary.client().await;
    p.batch_execute(
        "CREATE TABLE items (id int PRIMARY KEY, v text);
         INSERT INTO items SELECT g, 'one' FROM generate_series(1, 50) g",
    )
    .await
    .unwrap();

    let replica = TestServer::start_with(config_with(port, "replica = true").unwrap()).await;
    let r = replica.client().await;
    assert_eq!(
        count(&r).await.unwrap(),
        (50, 0),
        "caught up when it opened"
    );

    // What the primary commits next reaches the replica.
    p.batch_execute(
        "INSERT INTO items SELECT g, 'one' FROM generate_series(51, 100) g;
         UPDATE items SET v = 'two' WHERE id <= 10;
         DELETE FROM items WHERE id > 90;
         CREATE INDEX items_v ON items (v)",
    )
    .await
    .unwrap();
    let written = Instant::now();
    loop {
        if count(&r).await.unwrap() == (90, 10) {
            break;
        }
        assert!(
            written.elapsed() < Duration::from_secs(10),
            "the replica did not follow"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eprintln!(
        "the replica had the primary's commits {:?} after them",
        written.elapsed()
    );
    let by_index: i64 = r
        .query_one("SELECT count(*) FROM items WHERE v = 'one'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(by_index, 80);

    // Read-your-writes through a bookmark: the primary says where its log stands after a
    // commit; a read on the replica after that position waits until it holds it.
    for id in 1001..=1005 {
        p.execute("INSERT INTO items VALUES ($1, 'new')", &[&id])
            .await
            .unwrap();
        let position = read_after_primary(&p, &r).await;
        let seen: i64 = r
            .query_one("SELECT count(*) FROM items WHERE id = $1", &[&id])
            .await
            .unwrap()
            .get(0);
        assert_eq!(seen, 1, "a read after bookmark {position} sees commit {id}");
    }
    let err = r
        .batch_execute("SET litescale.read_after = 'soon'; SELECT 1")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "22023", "{err:?}");
    r.batch_execute("RESET litescale.read_after").await.unwrap();
    p.execute("DELETE FROM items WHERE id > 1000", &[])
        .await
        .unwrap();
    read_after_primary(&p, &r).await;

    // Writes are refused, as on a hot standby, and the session goes on.
    for write in [
        "INSERT INTO items VALUES (1000, 'x')",
        "UPDATE items SET v = 'three'",
        "CREATE TABLE other (id int)",
        "CREATE DATABASE elsewhere",
    ] {
        let err = r.batch_execute(write).await.unwrap_err();
        assert_eq!(sqlstate(&err), "25006", "{write}: {err:?}");
    }
    assert_eq!(count(&r).await.unwrap(), (90, 10));

    // At the same log position, the same pages. Page 1's change counter (bytes 24..28,
    // and 92..96 which repeat it) is SQLite's own: it sets it at each commit that writes
    // page 1 (the primary's commits handed over together are one commit on the replica).
    let header_counter = |mut file: Vec<u8>| {
        file[24..28].fill(0);
        file[92..96].fill(0);
        file
    };
    let primary_file = header_counter(checkpointed(&primary.data_dir().join("postgres/0.db")));
    let replica_file = header_counter(checkpointed(&replica.data_dir().join("postgres/0.db")));
    assert!(
        primary_file == replica_file,
        "the replica's file differs from the primary's"
    );
}
