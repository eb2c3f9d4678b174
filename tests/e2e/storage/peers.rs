//! Two litescale processes serving the same databases at once ([storage] peer_listen):
//! the one holding a partition's lease is its primary; the other follows the log, serves
//! reads from its own file and forwards writes to the primary, each acknowledged once its
//! own file holds it (a read there after a write there sees it). When the primary is
//! SIGKILLed, the other takes its partitions over: writes go on through it, and every
//! acknowledged commit is there, in the file its sessions read (also when the log was
//! purged past that file below a snapshot).

use std::path::Path;
use std::time::{Duration, Instant};

use super::replica::read_after_primary;
use super::single_node::{config_with, one_node};
use crate::cluster::cross_partition::start;
use crate::harness::{ServerProcess, TestServer, connect, sqlstate};

const PEERS: &str = "peer_listen = \"127.0.0.1:0\"";

async fn ids(c: &tokio_postgres::Client) -> Vec<i32> {
    c.query("SELECT id FROM items ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_forwards_writes_to_the_primary_and_reads_its_own_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (_node, port) = one_node(dir.path());
    let peer_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let primary_peers = format!("peer_listen = \"127.0.0.1:{peer_port}\"");
    let primary = TestServer::start_with(config_with(port, &primary_peers).unwrap()).await;
    let p = primary.client().await;
    p.batch_execute("CREATE TABLE items (id int PRIMARY KEY, v text)")
        .await
        .unwrap();
    let peer = TestServer::start_with(config_with(port, PEERS).unwrap()).await;
    let q = peer.client().await;

    // Autocommit writes through the peer, each seen by the next read there at once.
    for id in 1..=20 {
        q.execute("INSERT INTO items VALUES ($1, 'peer')", &[&id])
            .await
            .unwrap();
        let seen: i64 = q
            .query_one("SELECT count(*) FROM items WHERE id = $1", &[&id])
            .await
            .unwrap()
            .get(0);
        assert_eq!(seen, 1, "the peer's read after its write of {id}");
    }
    // A transaction block through the peer, with a read of its own writes inside it,
    // then one rolled back; DDL too.
    q.batch_execute(
        "BEGIN;
         INSERT INTO items VALUES (21, 'block');
         UPDATE items SET v = 'updated' WHERE id <= 5;",
    )
    .await
    .unwrap();
    let inside: i64 = q
        .query_one("SELECT count(*) FROM items WHERE v = 'updated'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(inside, 5, "a read inside the block sees its writes");
    q.batch_execute("COMMIT").await.unwrap();
    q.batch_execute("BEGIN; DELETE FROM items; ROLLBACK")
        .await
        .unwrap();
    q.batch_execute("CREATE INDEX items_v ON items (v)")
        .await
        .unwrap();
    assert_eq!(ids(&q).await, (1..=21).collect::<Vec<_>>());

    // The primary's errors come back with their SQLSTATE, and the session goes on.
    let err = q
        .execute("INSERT INTO items VALUES (1, 'again')", &[])
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "23505", "{err:?}");
    q.batch_execute("BEGIN").await.unwrap();
    let err = q
        .batch_execute("INSERT INTO items VALUES (2, 'again')")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "23505", "{err:?}");
    q.batch_execute("ROLLBACK").await.unwrap();

    // The primary has all of it; what it writes reaches the peer (the bookmark waits).
    assert_eq!(ids(&p).await, (1..=21).collect::<Vec<_>>());
    let updated: i64 = p
        .query_one("SELECT count(*) FROM items WHERE v = 'updated'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(updated, 5);
    p.execute("INSERT INTO items VALUES (22, 'primary')", &[])
        .await
        .unwrap();
    read_after_primary(&p, &q).await;
    assert_eq!(ids(&q).await, (1..=22).collect::<Vec<_>>());
    q.batch_execute("RESET litescale.read_after").await.unwrap();

    // DDL run on the primary reaches the peer's plans: a comparison typed by a column
    // the primary added (a string compared with a boolean is a boolean), after the peer
    // had read the table's columns for a typed plan of its own.
    let before: i64 = q
        .query_one("SELECT count(*) FROM items WHERE v = 'peer'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(before, 15);
    p.batch_execute("ALTER TABLE items ADD COLUMN flag boolean NOT NULL DEFAULT false")
        .await
        .unwrap();
    read_after_primary(&p, &q).await;
    let unflagged: i64 = q
        .query_one("SELECT count(*) FROM items WHERE flag = 'no'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        unflagged, 22,
        "the peer typed flag as the primary's DDL made it"
    );
    q.batch_execute("RESET litescale.read_after").await.unwrap();

    // A forwarded write past statement_timeout is interrupted on the primary (57014,
    // through the primary's peer port), and the session goes on.
    q.batch_execute("SET statement_timeout = 300")
        .await
        .unwrap();
    let started = Instant::now();
    let err = q
        .batch_execute(
            "INSERT INTO items (id, v) SELECT g, 'long' FROM generate_series(1000, 100000000) g",
        )
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "57014", "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    q.batch_execute("RESET statement_timeout").await.unwrap();
    // The primary's writer is free again at once: the write stopped there, not only here.
    let next = q
        .batch_execute("INSERT INTO items VALUES (999, 'after'); DELETE FROM items WHERE id = 999");
    let next = tokio::time::timeout(Duration::from_secs(5), next).await;
    assert!(
        matches!(next, Ok(Ok(()))),
        "the primary's writer is still busy: {next:?}"
    );
    assert_eq!(ids(&q).await, (1..=22).collect::<Vec<_>>());

    // The peer port takes writes only from those who know the engine's peers' secret.
    let refused = litescale_shard::knock(&format!("127.0.0.1:{peer_port}"), "postgres", "guess")
        .await
        .unwrap_err();
    assert_eq!(refused.sqlstate, "28000", "{refused:?}");

    // The primary stops (its leases given back): the peer takes the partition over,
    // and the same session writes on, now to its own file.
    drop(p);
    drop(primary);
    let stopped = Instant::now();
    let mut id = 23;
    while id < 33 {
        match q
            .execute("INSERT INTO items VALUES ($1, 'after')", &[&id])
            .await
        {
            Ok(_) => id += 1,
            // The link to the stopping primary closed under the write (08007), then
            // nobody held the lease for a moment: retried, as a client would.
            Err(e) => {
                assert!(
                    stopped.elapsed() < Duration::from_secs(20),
                    "the peer did not take over: {e:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    assert_eq!(ids(&q).await, (1..=32).collect::<Vec<_>>());
    let fresh = peer.client().await;
    assert_eq!(ids(&fresh).await, (1..=32).collect::<Vec<_>>());
}

/// Peers whose logs are purged below each snapshot, one every megabyte of log.
const SNAPSHOTS: &str = "snapshot_every_mb = 1\nsnapshots_kept = 1";

fn config_file(dir: &Path, port: u16) -> std::path::PathBuf {
    let path = dir.join("litescale.toml");
    std::fs::write(
        &path,
        format!(
            "[storage]\nengine = \"jetstream\"\nservers = [\"127.0.0.1:{port}\"]\nreplicas = 1\n{PEERS}\n{SNAPSHOTS}\n"
        ),
    )
    .unwrap();
    path
}

/// Waits until the log of `port`'s database holds nothing after its latest snapshot
/// (the snapshot is taken off the commit path, its log purged below it after).
async fn purged_to_snapshot(dir: &Path, port: u16) {
    let restores = tempfile::tempdir_in(dir).unwrap();
    let config = litescale_config::Config {
        data_dir: restores.path().to_owned(),
        ..config_with(port, SNAPSHOTS).unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = litescale_shard::RestorePoint::Time(chrono::Utc::now());
        let restored = litescale_shard::restore(&config, "postgres", now, "probe").unwrap();
        std::fs::remove_dir_all(restores.path().join("probe")).unwrap();
        if restored[0].snapshot.is_some() && restored[0].commits == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no snapshot holds the last commit: {restored:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Inserts rows through `c` from `from` until `stop`, returning the ids acknowledged.
async fn ledger(c: &tokio_postgres::Client, from: i32, until: Instant) -> Vec<i32> {
    let mut acknowledged = Vec::new();
    let mut id = from;
    while Instant::now() < until {
        if c.execute("INSERT INTO items VALUES ($1, 'load')", &[&id])
            .await
            .is_ok()
        {
            acknowledged.push(id);
        }
        id += 1;
    }
    acknowledged
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_takes_over_from_a_sigkilled_primary_and_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let (_node, port) = one_node(dir.path());
    let config = config_file(dir.path(), port);
    let first: ServerProcess = start(&dir.path().join("host-a"), &config, None);
    let a = connect(first.addr).await;
    a.batch_execute("CREATE TABLE items (id int PRIMARY KEY, v text)")
        .await
        .unwrap();
    let second = start(&dir.path().join("host-b"), &config, None);
    let b = connect(second.addr).await;

    // Writes through both while the primary lives.
    let mut acknowledged = ledger(&b, 1, Instant::now() + Duration::from_millis(700)).await;
    acknowledged.extend(ledger(&a, 100_000, Instant::now() + Duration::from_millis(300)).await);
    assert!(acknowledged.len() > 20, "{} writes", acknowledged.len());
    // The peer paused, a commit past a megabyte on the primary (hex digits, which the
    // log's compression cannot shrink), then nothing: the
    // snapshot it asks for holds it, and the log is purged below that snapshot, past all
    // the peer's file holds. Resumed, the peer writes the snapshot into its file (its
    // readers read on) and then takes over a file whose commits the log no longer has.
    second.signal("STOP");
    a.execute(
        "INSERT INTO items SELECT 150000, string_agg(md5(g::text), '') FROM generate_series(1, 35000) g",
        &[],
    )
    .await
    .unwrap();
    acknowledged.push(150_000);
    purged_to_snapshot(dir.path(), port).await;
    second.signal("CONT");
    second.wait_for_stderr("the log was purged past this file");

    // The primary's process dies; the peer's session writes on once it takes over.
    first.kill();
    let killed = Instant::now();
    let mut after = 0;
    let mut id = 200_000;
    let mut first_after = None;
    while after < 20 {
        assert!(
            killed.elapsed() < Duration::from_secs(30),
            "the peer did not take over"
        );
        if b.execute("INSERT INTO items VALUES ($1, 'after')", &[&id])
            .await
            .is_ok()
        {
            first_after.get_or_insert(killed.elapsed());
            acknowledged.push(id);
            after += 1;
        }
        id += 1;
    }
    eprintln!(
        "writes went on through the peer {:?} after the primary was killed",
        first_after.unwrap()
    );
    acknowledged.sort_unstable();
    // Read by a new session too: it reads the file the new primary writes.
    let present: Vec<i32> = ids(&connect(second.addr).await).await;
    assert_eq!(present, ids(&b).await);
    let missing: Vec<_> = acknowledged
        .iter()
        .filter(|id| present.binary_search(id).is_err())
        .collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    // Besides those, at most the one write in flight when the primary died (its answer
    // lost: 08007) may have committed.
    assert!(
        present.len() <= acknowledged.len() + 1,
        "{} rows for {} acknowledged writes",
        present.len(),
        acknowledged.len()
    );
}
