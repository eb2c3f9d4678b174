//! One run under a write load that keeps a ledger of acknowledged commits: written
//! through a peer ([storage] peer_listen) that forwards them to the primary on the other
//! compute host, that host lost (the peer takes over), an engine node killed, an engine
//! node's link cut, a primary paused while another takes over on a host whose files were
//! wiped, a point-in-time restore; then every acknowledged commit present and the files
//! identical to the log's replay.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio_postgres::{Client, NoTls};

use super::checkpointed;
use super::engine::Engine;
use super::hosts::{Hosts, Process};
use crate::harness::binary;

const ENGINE_HOSTS: [usize; 3] = [1, 2, 3];
const COMPUTE_A: usize = 4;
const COMPUTE_B: usize = 5;
const LOAD: usize = 6;
const STREAM: &str = "LS_postgres_P0";
/// Where each host's config names its own peer address.
const PEER: &str = "<peer address>";

/// An acknowledged commit: its id, and when its acknowledgement arrived.
#[derive(Clone, Copy)]
struct Acked {
    id: i64,
    at: Instant,
    wall: SystemTime,
}

#[derive(Default)]
struct Ledger {
    acked: Vec<Acked>,
    /// Writes whose outcome the client never learned (a lost connection): they may or
    /// may not be there.
    unknown: Vec<i64>,
}

struct Cluster<'a> {
    hosts: &'a Hosts,
    dir: PathBuf,
    config: PathBuf,
}

impl Cluster<'_> {
    fn data(&self, host: usize) -> PathBuf {
        self.dir.join(format!("data{host}"))
    }

    fn address(&self, host: usize) -> String {
        format!("{}:5432", self.hosts.ip(host))
    }

    /// litescale on `host`, with the cluster's config and its own peer address.
    fn litescale(&self, host: usize, args: &[&str]) -> std::process::Command {
        let config = self.dir.join(format!("litescale-{host}.toml"));
        let text = std::fs::read_to_string(&self.config).unwrap();
        let peer = format!("{}:7100", self.hosts.ip(host));
        std::fs::write(&config, text.replace(PEER, &peer)).unwrap();
        let mut command = self.hosts.command(host, &binary());
        command
            .arg("--config")
            .arg(&config)
            .arg("--data")
            .arg(self.data(host))
            .args(args)
            .env("RUST_LOG", "warn");
        command
    }

    /// litescale serving on `host`, its files wiped first if `wipe`.
    fn start(&self, host: usize, wipe: bool) -> Process {
        if wipe {
            let _ = std::fs::remove_dir_all(self.data(host));
        }
        let listen = self.address(host);
        Process::start(
            self.litescale(host, &["--listen", &listen]),
            Some("litescale listening on"),
        )
    }
}

async fn connect(address: &str, database: &str) -> Option<Client> {
    let conninfo = format!(
        "host={} port=5432 user=postgres dbname={database} connect_timeout=2",
        address.split(':').next().unwrap()
    );
    let (client, connection) = tokio::time::timeout(
        Duration::from_secs(3),
        tokio_postgres::connect(&conninfo, NoTls),
    )
    .await
    .ok()?
    .ok()?;
    tokio::spawn(connection);
    Some(client)
}

/// A row of the ledger: half a kilobyte of random hex digits with it, which the log's
/// compression cannot shrink, so that snapshots come every few hundred commits.
const LEDGER_INSERT: &str = "INSERT INTO ledger (id, pad) \
    SELECT $1::int8, string_agg(md5(random()::text), '') FROM generate_series(1, 16)";

/// Inserts rows with increasing ids into whichever server answers, until `stop`.
async fn load(addresses: Vec<String>, ledger: Arc<Mutex<Ledger>>, stop: Arc<tokio::sync::Notify>) {
    let mut id = 0;
    let mut client: Option<Client> = None;
    let stopped = stop.notified();
    tokio::pin!(stopped);
    loop {
        if client.is_none() {
            for address in &addresses {
                if let Some(c) = connect(address, "postgres").await {
                    client = Some(c);
                    break;
                }
            }
            if client.is_none() {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        }
        id += 1;
        let row_id = id;
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&row_id];
        let insert = client.as_ref().unwrap().execute(LEDGER_INSERT, &params);
        tokio::select! {
            () = &mut stopped => {
                ledger.lock().unwrap().unknown.push(id);
                return;
            }
            result = tokio::time::timeout(Duration::from_secs(2), insert) => {
                let mut ledger = ledger.lock().unwrap();
                match result {
                    Ok(Ok(_)) => ledger.acked.push(Acked { id, at: Instant::now(), wall: SystemTime::now() }),
                    _ => {
                        ledger.unknown.push(id);
                        client = None;
                    }
                }
            }
        }
    }
}

/// Waits until `more` further commits are acknowledged; returns the longest pause
/// between two acknowledgements meanwhile, counted from `since`.
async fn acks(ledger: &Mutex<Ledger>, more: usize, within: Duration, since: Instant) -> Duration {
    let start = ledger.lock().unwrap().acked.len();
    let deadline = Instant::now() + within;
    loop {
        {
            let ledger = ledger.lock().unwrap();
            if ledger.acked.len() >= start + more {
                let mut previous = since;
                let mut longest = Duration::ZERO;
                for a in ledger.acked.iter().filter(|a| a.at >= since) {
                    longest = longest.max(a.at - previous);
                    previous = a.at;
                }
                return longest;
            }
        }
        assert!(
            Instant::now() < deadline,
            "writes did not go on: {} of {more} more acknowledged in {within:?}",
            ledger.lock().unwrap().acked.len() - start
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn ids(client: &Client) -> Vec<i64> {
    client
        .query("SELECT id FROM ledger ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// `work` on the blocking pool, so that the load goes on meanwhile.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(work).await.unwrap()
}

#[test]
fn acknowledged_commits_survive_lost_hosts_engine_nodes_and_a_paused_primary() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = Hosts::up(6);
    let mut engine = Engine::start(&hosts, &ENGINE_HOSTS, dir.path());
    let config = dir.path().join("litescale.toml");
    let servers: Vec<String> = engine
        .servers(&hosts)
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect();
    std::fs::write(
        &config,
        format!(
            "[storage]\nengine = \"jetstream\"\nservers = [{}]\ncommit_timeout_ms = 30000\n\
             snapshot_every_mb = 1\nsnapshots_kept = 3\npeer_listen = \"{PEER}\"\n\n\
             [[auth]]\naddress = \"{}.0/24\"\nmethod = \"trust\"\n",
            servers.join(", "),
            hosts.subnet()
        ),
    )
    .unwrap();
    let cluster = Cluster {
        hosts: &hosts,
        dir: dir.path().to_owned(),
        config,
    };
    let cluster = &cluster;
    let engine = &mut engine;
    hosts.on_host(LOAD, move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(scenario(cluster, engine))
    });
}

async fn scenario(cluster: &Cluster<'_>, engine: &mut Engine) {
    let hosts = cluster.hosts;
    let a = cluster.start(COMPUTE_A, true);
    let setup = connect(&cluster.address(COMPUTE_A), "postgres")
        .await
        .unwrap();
    setup
        .batch_execute(
            "CREATE TABLE ledger (id bigint PRIMARY KEY, at timestamptz DEFAULT now(), pad text)",
        )
        .await
        .unwrap();
    drop(setup);
    // The other compute host, nothing on its disk, serves the database as a peer: its
    // file follows the log, and the load's writes through it go to the primary.
    let b = blocking({
        let cluster_b = (
            cluster.litescale(COMPUTE_B, &["--listen", &cluster.address(COMPUTE_B)]),
            cluster.data(COMPUTE_B),
        );
        move || {
            let _ = std::fs::remove_dir_all(&cluster_b.1);
            Process::start(cluster_b.0, Some("litescale listening on"))
        }
    })
    .await;
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let stop = Arc::new(tokio::sync::Notify::new());
    let addresses = vec![cluster.address(COMPUTE_B), cluster.address(COMPUTE_A)];
    let writer = tokio::spawn(load(addresses, Arc::clone(&ledger), Arc::clone(&stop)));
    acks(&ledger, 200, Duration::from_secs(30), Instant::now()).await;

    // The primary's compute host lost: every process on it killed; the peer takes the
    // partition over, and the load's session on it writes on.
    let lost = Instant::now();
    a.kill();
    let pause = acks(&ledger, 100, Duration::from_secs(30), lost).await;
    eprintln!("compute host lost, its peer took over: writes again after {pause:?}");

    // The stream's leader node killed, then another leader's link cut.
    for cut_link in [false, true] {
        let leader = blocking({
            let (hosts_ips, nodes): (Vec<String>, Vec<bool>) = (
                engine.hosts.iter().map(|&h| hosts.ip(h)).collect(),
                engine.nodes.iter().map(Option::is_some).collect(),
            );
            move || super::engine::leader_of(&hosts_ips, &nodes, STREAM)
        })
        .await
        .expect("the stream has a leader");
        let lost = Instant::now();
        if cut_link {
            hosts.link(engine.hosts[leader], false);
        } else {
            engine.nodes[leader].take().unwrap().kill();
        }
        let pause = acks(&ledger, 100, Duration::from_secs(60), lost).await;
        let fault = if cut_link { "link cut" } else { "killed" };
        eprintln!(
            "engine node n{leader} (the stream's leader) {fault}: writes again after {pause:?}"
        );
        if cut_link {
            hosts.link(engine.hosts[leader], true);
        } else {
            engine.start_node(hosts, leader);
        }
        acks(&ledger, 50, Duration::from_secs(30), Instant::now()).await;
    }

    // The primary paused; litescale started on the first host with its files wiped takes
    // the lease over once the paused one stops renewing it; the paused one, resumed,
    // cannot commit.
    b.signal("STOP");
    let paused = Instant::now();
    let a = blocking({
        let command = cluster.litescale(COMPUTE_A, &["--listen", &cluster.address(COMPUTE_A)]);
        let data = cluster.data(COMPUTE_A);
        move || {
            let _ = std::fs::remove_dir_all(&data);
            Process::start(command, Some("litescale listening on"))
        }
    })
    .await;
    let pause = acks(&ledger, 100, Duration::from_secs(30), paused).await;
    eprintln!("primary paused, another started on a wiped host: writes again after {pause:?}");
    b.signal("CONT");
    let deposed = connect(&cluster.address(COMPUTE_B), "postgres")
        .await
        .unwrap();
    let err = deposed
        .execute("INSERT INTO ledger (id) VALUES (-1)", &[])
        .await
        .unwrap_err();
    // 25006 if it tries to commit; 57P03 once it knows it lost the partition (a write
    // reads the table's columns first).
    let code = err.as_db_error().map(|e| e.code().code());
    assert!(
        matches!(code, Some("25006" | "57P03")),
        "the deposed primary's write: {err:?}"
    );
    // Nor does it answer reads: its file may hold a commit the log never took.
    let err = deposed
        .query("SELECT count(*) FROM ledger", &[])
        .await
        .unwrap_err();
    assert_eq!(
        err.as_db_error().map(|e| e.code().code()),
        Some("57P03"),
        "the deposed primary's read: {err:?}"
    );

    // Point-in-time restore to just after one acknowledged commit (a late one: the log
    // is kept from the oldest of the last three snapshots, a megabyte of log apart).
    let point = {
        let ledger = ledger.lock().unwrap();
        ledger.acked[ledger.acked.len() * 9 / 10]
    };
    stop.notify_one();
    writer.await.unwrap();
    let at = chrono::DateTime::<chrono::Utc>::from(point.wall)
        .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    let restore = cluster
        .litescale(
            COMPUTE_A,
            &[
                "restore",
                "--database",
                "postgres",
                "--at",
                &at,
                "--into",
                "pitr",
            ],
        )
        .output()
        .unwrap();
    assert!(restore.status.success(), "{restore:?}");
    let primary = connect(&cluster.address(COMPUTE_A), "postgres")
        .await
        .unwrap();
    let all = ids(&primary).await;
    let restored = ids(&connect(&cluster.address(COMPUTE_A), "pitr").await.unwrap()).await;
    let expected: Vec<i64> = all.iter().copied().filter(|&id| id <= point.id).collect();
    assert_eq!(restored, expected, "restored to after commit {}", point.id);

    // Every acknowledged commit is there, and nothing the deposed primary tried.
    let ledger = ledger.lock().unwrap();
    let missing: Vec<i64> = ledger
        .acked
        .iter()
        .map(|a| a.id)
        .filter(|id| all.binary_search(id).is_err())
        .collect();
    assert!(missing.is_empty(), "acknowledged commits lost: {missing:?}");
    let unexplained: Vec<i64> = all
        .iter()
        .copied()
        .filter(|id| !ledger.acked.iter().any(|a| a.id == *id) && !ledger.unknown.contains(id))
        .collect();
    assert!(unexplained.is_empty(), "rows nobody wrote: {unexplained:?}");
    eprintln!(
        "{} commits acknowledged, {} of unknown outcome, all present",
        ledger.acked.len(),
        ledger.unknown.len()
    );

    // The primary's file and a replay of the log on the other host are the same bytes.
    drop(primary);
    drop(b);
    a.kill();
    let copy = cluster
        .litescale(
            COMPUTE_B,
            &[
                "restore",
                "--database",
                "postgres",
                "--at",
                &u64::MAX.to_string(),
                "--into",
                "copy",
            ],
        )
        .output()
        .unwrap();
    assert!(copy.status.success(), "{copy:?}");
    // Snapshots were taken through the faults, and the log purged below them.
    let said = String::from_utf8_lossy(&copy.stdout);
    assert!(
        said.contains("from its snapshot through log position"),
        "{said}"
    );
    eprintln!("{}", said.trim());
    let primary_file = checkpointed(&cluster.data(COMPUTE_A).join("postgres/0.db"));
    let replayed_file = checkpointed(&cluster.data(COMPUTE_B).join("copy/0.db"));
    assert!(
        primary_file == replayed_file,
        "the primary's file differs from the log's replay"
    );
}
