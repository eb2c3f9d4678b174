//! Several partitions on the log: a transaction across partitions, its process SIGKILLed
//! at each step of its commit, is on all partitions or none once a litescale on an
//! empty data directory (another host) opens the database: its redo and decision are in
//! the engine, not on the lost host's disk. A coordinator stopped before its decision
//! while another host takes over (opening the database, or its peer taking the
//! partitions over) cannot commit when it wakes: the first decision stands.

use std::path::{Path, PathBuf};

use litescale_config::{Config, KeyValue};

use super::single_node::one_node;
use crate::cluster::cross_partition::{COMMIT_STEPS, add_one_to_both, start as start_paused};
use crate::harness::{ServerProcess, config_args, connect, sqlstate};

const TABLES: &str = "[partitions]\ncount = 2\n\n[tables.accounts]\nkey = \"aid\"\n";

fn config_file(dir: &Path, port: u16, storage: &str) -> PathBuf {
    let path = dir.join("litescale.toml");
    std::fs::write(
        &path,
        format!(
            "[storage]\nengine = \"jetstream\"\nservers = [\"127.0.0.1:{port}\"]\nreplicas = 1\n{storage}\n\n{TABLES}"
        ),
    )
    .unwrap();
    path
}

/// Two account ids in different partitions.
fn two_partitions() -> (i32, i32) {
    let map = toml::from_str::<Config>(TABLES)
        .unwrap()
        .partition_map()
        .unwrap();
    let of = |aid: i64| map.partition_of("accounts", &KeyValue::Int(aid)).unwrap();
    let other = (2..200).find(|a| of(*a) != of(1)).unwrap();
    (1, other as i32)
}

/// litescale on a data directory of its own (a new host), paused at `pause_at`.
fn start(dir: &Path, host: &str, config: &Path, pause_at: Option<&str>) -> ServerProcess {
    start_paused(&dir.join(host), config, pause_at)
}

/// Two accounts at 0 in different partitions, written by a first host, then killed.
async fn accounts_on_the_log(dir: &Path, config: &Path) -> (i32, i32) {
    let (a, b) = two_partitions();
    let first = start(dir, "host-0", config, None);
    let c = connect(first.addr).await;
    c.batch_execute("CREATE TABLE accounts (aid INT PRIMARY KEY, abalance INT)")
        .await
        .unwrap();
    c.execute("INSERT INTO accounts VALUES ($1, 0), ($2, 0)", &[&a, &b])
        .await
        .unwrap();
    first.kill();
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_across_partitions_outlives_its_host_at_every_commit_step() {
    let dir = tempfile::tempdir().unwrap();
    let (_node, port) = one_node(dir.path());
    let config = config_file(dir.path(), port, "");
    let (a, b) = accounts_on_the_log(dir.path(), &config).await;
    // From the decision on, the next host's recovery finishes it from the engine.
    let mut expected = 0;
    for (i, (step, committed)) in COMMIT_STEPS.into_iter().enumerate() {
        let server = start(
            dir.path(),
            &format!("host-{}", 2 * i + 1),
            &config,
            Some(step),
        );
        let c = connect(server.addr).await;
        let sql = add_one_to_both(a, b);
        let commit = tokio::spawn(async move { c.batch_execute(&sql).await });
        server.wait_for_stderr(&format!("fault point {step} reached"));
        server.kill();
        assert!(commit.await.unwrap().is_err(), "{step}: never acknowledged");
        if committed {
            expected += 1;
        }
        let next = start(dir.path(), &format!("host-{}", 2 * i + 2), &config, None);
        let c = connect(next.addr).await;
        assert_eq!(
            balances(&c, a, b).await,
            [expected, expected],
            "after a kill at {step}, on another host"
        );
        next.kill();
    }
}

/// The balances of accounts `a` and `b`.
async fn balances(c: &tokio_postgres::Client, a: i32, b: i32) -> Vec<i32> {
    c.query(
        "SELECT aid, abalance FROM accounts WHERE aid IN ($1, $2) ORDER BY aid",
        &[&a, &b],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(1))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_stopped_before_its_decision_cannot_commit_after_a_takeover() {
    coordinator_stopped_before_its_decision("").await;
}

/// As above, the other host serving the database as a peer ([storage] peer_listen) while
/// the coordinator runs, then taking its partitions over one by one as their leases
/// lapse (not opening the database anew): it too decides the transaction aborted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_stopped_before_its_decision_cannot_commit_after_a_peer_takes_over() {
    coordinator_stopped_before_its_decision("peer_listen = \"127.0.0.1:0\"").await;
}

/// A coordinator stopped (SIGSTOP) with both parts prepared, before deciding, while
/// another host takes the partitions over; `storage` is added to both hosts' [storage].
async fn coordinator_stopped_before_its_decision(storage: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (_node, port) = one_node(dir.path());
    let config = config_file(dir.path(), port, storage);
    let (a, b) = accounts_on_the_log(dir.path(), &config).await;
    let peers = !storage.is_empty();

    let stopped = ServerProcess::start_watching_stderr(
        &config_args(&dir.path().join("host-1"), &config),
        &[("LITESCALE_FAULT_STOP", "after-prepare")],
    );
    let c = connect(stopped.addr).await;
    // A peer of the coordinator's process, serving the database already.
    let peer = peers.then(|| start(dir.path(), "host-2", &config, None));
    if let Some(peer) = &peer {
        let c = connect(peer.addr).await;
        assert_eq!(balances(&c, a, b).await, [0, 0]);
    }
    let sql = add_one_to_both(a, b);
    let commit = tokio::spawn(async move { c.batch_execute(&sql).await });
    stopped.wait_for_stderr("fault point after-prepare reached");

    // The other host takes the partitions over once the leases lapse (the peer in place,
    // or a new process opening the database), finds the transaction undecided and
    // decides it aborted.
    let next = peer.unwrap_or_else(|| start(dir.path(), "host-2", &config, None));
    next.wait_for_stderr("undid a cross-partition transaction");
    let c = connect(next.addr).await;
    assert_eq!(balances(&c, a, b).await, [0, 0]);

    // The stopped coordinator wakes and tries to decide: the abort stands.
    stopped.signal("CONT");
    let err = tokio::time::timeout(std::time::Duration::from_secs(30), commit)
        .await
        .expect("the woken coordinator answers")
        .unwrap()
        .unwrap_err();
    assert_eq!(sqlstate(&err), "25006", "{err:?}");
    let message = err.as_db_error().unwrap().message();
    assert!(message.contains("aborted this transaction"), "{message}");
    assert_eq!(balances(&c, a, b).await, [0, 0]);
    next.kill();
    stopped.kill();
}
