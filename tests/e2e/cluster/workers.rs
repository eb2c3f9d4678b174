//! Worker processes (`[workers] mode = "processes"`): replicas, read-your-writes, fencing,
//! failover under SIGKILL with a ledger of acknowledged commits, elastic replicas, scale
//! to zero. Every worker is a real `litescale worker` child process.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use litescale_config::{Config, WorkerMode, WorkersConfig};
use tokio_postgres::Client;

use crate::harness::{TestServer, binary, connect_to_database, sqlstate};

fn processes(replicas: usize) -> Config {
    Config {
        workers: WorkersConfig {
            mode: WorkerMode::Processes,
            replicas,
            program: Some(binary()),
            health_check_ms: 50,
            ..WorkersConfig::default()
        },
        ..Config::default()
    }
}

/// `SHOW WORKERS` rows: worker, database, partition, role, address, state, pid, reads.
async fn workers(server: SocketAddr) -> Vec<Vec<String>> {
    let admin = connect_to_database(server, "litescale").await.unwrap();
    let rows = admin.simple_query("SHOW WORKERS").await.unwrap();
    crate::harness::simple_rows(&rows)
        .into_iter()
        .map(|r| r.into_iter().map(|v| v.unwrap_or_default()).collect())
        .collect()
}

/// Waits until SHOW WORKERS lists a ready primary and `replicas` ready replicas, and
/// nothing else.
async fn wait_for_workers(server: SocketAddr, replicas: usize) -> Vec<Vec<String>> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = workers(server).await;
        let ready = |role: &str| {
            rows.iter()
                .filter(|r| r[3] == role && r[5] == "ready")
                .count()
        };
        if ready("primary") == 1 && ready("replica") == replicas && rows.len() == replicas + 1 {
            return rows;
        }
        assert!(
            Instant::now() < deadline,
            "workers never got ready: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the killed primary is gone from SHOW WORKERS and a new primary is ready.
async fn wait_for_failover(server: SocketAddr, killed: i32) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = workers(server).await;
        if rows.iter().all(|r| r[6] != killed.to_string())
            && rows.iter().any(|r| r[3] == "primary" && r[5] == "ready")
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no failover after killing {killed}: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn pid_of(rows: &[Vec<String>], role: &str) -> i32 {
    rows.iter()
        .find(|r| r[3] == role)
        .map(|r| r[6].parse().unwrap())
        .unwrap_or_else(|| panic!("no {role} in {rows:?}"))
}

fn signal(pid: i32, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {pid}");
}

async fn count(c: &Client) -> i64 {
    c.query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0)
}

/// The cores a process may run on (its main thread's), as /proc shows them.
fn cpus_allowed(pid: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .unwrap_or_else(|| panic!("no Cpus_allowed_list for {pid}"))
        .trim()
        .to_owned()
}

/// A replica's thread for a reader link runs on the core the link's requests come from
/// (the proxy keeps a reader link to the core of the lane that uses it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_serves_each_link_on_the_core_its_requests_come_from() {
    let server = TestServer::start_with(processes(1)).await;
    let rows = wait_for_workers(server.addr, 1).await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    for _ in 0..50 {
        assert_eq!(count(&c).await, 1);
    }
    let replica = pid_of(&rows, "replica");
    let threads = std::fs::read_dir(format!("/proc/{replica}/task")).unwrap();
    let pinned = threads
        .map(|t| {
            cpus_allowed(&format!(
                "{replica}/task/{}",
                t.unwrap().file_name().to_string_lossy()
            ))
        })
        .filter(|cpus| !cpus.contains(['-', ',']))
        .count();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert!(
        cores == 1 || pinned >= 1,
        "no thread of the replica follows its link's core"
    );
}

/// The proxy pins each client connection's thread to a core; a worker that a client's
/// statement starts (ADD REPLICA on the admin console) still gets every core the proxy has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_started_by_a_client_statement_gets_every_core_of_the_proxy() {
    let server = TestServer::start_with(processes(0)).await;
    wait_for_workers(server.addr, 0).await;
    let admin = connect_to_database(server.addr, "litescale").await.unwrap();
    admin.simple_query("ADD REPLICA 0").await.unwrap();
    let rows = wait_for_workers(server.addr, 1).await;
    let proxy = cpus_allowed(&std::process::id().to_string());
    for worker in &rows {
        assert_eq!(cpus_allowed(&worker[6]), proxy, "{worker:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_serve_reads_and_see_each_acknowledged_write() {
    let server = TestServer::start_with(processes(2)).await;
    let rows = wait_for_workers(server.addr, 2).await;
    let me = std::process::id() as i32;
    assert!(
        rows.iter().all(|r| r[6].parse::<i32>().unwrap() != me),
        "{rows:?}"
    );

    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (id INT PRIMARY KEY, v TEXT)")
        .await
        .unwrap();
    // Read-your-writes: each read, on a replica, sees the commit acknowledged just before.
    for i in 1..=100i64 {
        c.execute("INSERT INTO t VALUES ($1, 'x')", &[&(i as i32)])
            .await
            .unwrap();
        assert_eq!(count(&c).await, i);
    }
    let rows = workers(server.addr).await;
    let reads = |role: &str| -> u64 {
        rows.iter()
            .filter(|r| r[3] == role)
            .map(|r| r[7].parse::<u64>().unwrap())
            .sum()
    };
    assert!(reads("replica") >= 100, "{rows:?}");
    assert_eq!(reads("primary"), 0, "the primary took reads: {rows:?}");
    // Round robin: both replicas served.
    assert!(
        rows.iter()
            .filter(|r| r[3] == "replica")
            .all(|r| r[7].parse::<u64>().unwrap() > 10),
        "{rows:?}"
    );
    // Transactions, savepoints and errors behave as in process.
    c.batch_execute("BEGIN; INSERT INTO t VALUES (1000, 'a'); SAVEPOINT s; INSERT INTO t VALUES (1001, 'b'); ROLLBACK TO s; COMMIT")
        .await
        .unwrap();
    assert_eq!(count(&c).await, 101);
    let err = c
        .execute("INSERT INTO t VALUES (1, 'dup')", &[])
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "23505");
    // The constraint a worker names crosses the link.
    let db = err.as_db_error().expect("an ErrorResponse");
    assert_eq!((db.table(), db.constraint()), (Some("t"), Some("t_pkey")));
    assert_eq!(count(&c).await, 101);
}

/// A SQL function lives in the database, not in a connection: made through the primary,
/// each replica process's connections learn it when a call first reaches them, and see it
/// replaced and dropped at once.
#[tokio::test]
async fn a_sql_function_made_on_the_primary_runs_on_every_replica() {
    let server = TestServer::start_with(processes(2)).await;
    wait_for_workers(server.addr, 2).await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE prices (id INT PRIMARY KEY, cents INT); \
         INSERT INTO prices VALUES (1, 250), (2, 1000); \
         CREATE FUNCTION price(i int) RETURNS int LANGUAGE sql STABLE \
           AS 'SELECT cents FROM prices WHERE id = i'",
    )
    .await
    .unwrap();
    let price = |id: i32| {
        let c = &c;
        async move {
            // Typed in the text: the router plans a call without the function's definition.
            c.query_one("SELECT price($1::int)::int", &[&id])
                .await
                .map(|r| r.get::<_, Option<i32>>(0))
        }
    };
    // Round robin: every replica answers several of these.
    for _ in 0..10 {
        assert_eq!(price(1).await.unwrap(), Some(250));
        assert_eq!(price(3).await.unwrap(), None);
    }
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION price(i int) RETURNS int LANGUAGE sql STABLE \
           AS 'SELECT cents * 2 FROM prices WHERE id = i'",
    )
    .await
    .unwrap();
    for _ in 0..10 {
        assert_eq!(price(2).await.unwrap(), Some(2000));
    }
    c.batch_execute("DROP FUNCTION price(int)").await.unwrap();
    for _ in 0..4 {
        assert_eq!(sqlstate(&price(1).await.unwrap_err()), "42883");
    }
    let rows = workers(server.addr).await;
    assert!(
        rows.iter()
            .filter(|r| r[3] == "replica")
            .all(|r| r[7].parse::<u64>().unwrap() >= 5),
        "{rows:?}"
    );
}

fn alive(pid: i32) -> bool {
    std::process::Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success()
}

async fn wait_until_gone(pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while alive(pid) {
        assert!(Instant::now() < deadline, "process {pid} is still running");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_one_primary_can_write_and_a_deposed_one_cannot_commit() {
    let server = TestServer::start_with(processes(1)).await;
    let rows = wait_for_workers(server.addr, 1).await;
    let primary: std::net::SocketAddr = rows.iter().find(|r| r[3] == "primary").unwrap()[4]
        .parse()
        .unwrap();
    let old_pid = pid_of(&rows, "primary");
    let replica_id = rows.iter().find(|r| r[3] == "replica").unwrap()[0].clone();

    // A second would-be primary for the same partition cannot take the election lock.
    let second = std::process::Command::new(binary())
        .args(["worker", "--role", "primary", "--data"])
        .arg(server.data_dir())
        .output()
        .unwrap();
    assert!(!second.status.success());
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(said.contains("has a live primary"), "{said}");

    // A stale proxy's link to the primary (what this test plays), opened while it rules.
    let mut stale = litescale_shard::DirectWriter::connect(primary)
        .await
        .unwrap();
    stale
        .write("CREATE TABLE t (id INT PRIMARY KEY)")
        .await
        .unwrap();
    stale.write("INSERT INTO t VALUES (1)").await.unwrap();

    // Pause the primary; promote the replica over it (PROMOTE forces the election).
    signal(old_pid, "STOP");
    let admin = connect_to_database(server.addr, "litescale").await.unwrap();
    admin
        .simple_query(&format!("PROMOTE {replica_id}"))
        .await
        .unwrap();
    let c = server.client().await;
    c.execute("INSERT INTO t VALUES (2)", &[]).await.unwrap();

    // Resumed, the old primary cannot commit: the fence refuses the write (or it has
    // already seen the new epoch at a health check and exited).
    signal(old_pid, "CONT");
    let refused = stale.write("INSERT INTO t VALUES (3)").await.unwrap_err();
    assert!(
        refused.sqlstate == litescale_shard::FENCED || refused.sqlstate == "08006",
        "{refused:?}"
    );
    wait_until_gone(old_pid).await;
    let ids: Vec<i32> = c
        .query("SELECT id FROM t ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, [1, 2]);
    c.execute("INSERT INTO t VALUES (4)", &[]).await.unwrap();
}

/// Every acknowledged commit survives repeated SIGKILLs of the primary, and the client
/// keeps its connection: statements caught by a kill get a retryable error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_under_load_loses_no_acknowledged_commit() {
    const KILLS: usize = 20;
    let server = TestServer::start_with(processes(1)).await;
    wait_for_workers(server.addr, 1).await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE ledger (id INT PRIMARY KEY, pair INT)")
        .await
        .unwrap();

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopping = std::sync::Arc::clone(&stop);
    let load = tokio::spawn(async move {
        let (mut acked, mut pairs, mut errors) = (BTreeSet::new(), BTreeSet::new(), Vec::new());
        let mut next = 0;
        while !stopping.load(std::sync::atomic::Ordering::Relaxed) {
            next += 2;
            // Alternately one autocommit insert and a two-row transaction.
            let result = if next % 4 == 0 {
                c.execute("INSERT INTO ledger VALUES ($1, NULL)", &[&next])
                    .await
                    .map(|_| ())
            } else {
                let txn = async {
                    c.batch_execute("BEGIN").await?;
                    c.execute("INSERT INTO ledger VALUES ($1, $2)", &[&next, &(next + 1)])
                        .await?;
                    c.execute("INSERT INTO ledger VALUES ($1, $2)", &[&(next + 1), &next])
                        .await?;
                    c.batch_execute("COMMIT").await
                };
                txn.await
            };
            match result {
                Ok(()) if next % 4 == 0 => {
                    acked.insert(next);
                }
                Ok(()) => {
                    pairs.insert(next);
                }
                Err(e) => {
                    // A closed connection (the test failed elsewhere) ends the load
                    // rather than spin.
                    assert!(!c.is_closed(), "the client lost its connection: {e}");
                    errors.push(sqlstate(&e));
                    let _ = c.batch_execute("ROLLBACK").await;
                }
            }
        }
        (c, acked, pairs, errors)
    });

    for _ in 0..KILLS {
        let rows = wait_for_workers(server.addr, 1).await;
        tokio::time::sleep(Duration::from_millis(30)).await;
        let killed = pid_of(&rows, "primary");
        signal(killed, "KILL");
        wait_for_failover(server.addr, killed).await;
    }
    wait_for_workers(server.addr, 1).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (c, acked, pairs, errors) = load.await.unwrap();

    assert!(acked.len() + pairs.len() > 100, "too little load ran");
    for e in &errors {
        assert!(
            ["40001", "08007", "57P03", "57P01"].contains(&e.as_str()),
            "unexpected error {e} (all: {errors:?})"
        );
    }
    let present: BTreeSet<i32> = c
        .query("SELECT id FROM ledger", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for id in &acked {
        assert!(present.contains(id), "acknowledged insert {id} was lost");
    }
    for id in &pairs {
        assert!(
            present.contains(id) && present.contains(&(id + 1)),
            "acknowledged transaction {id} was lost"
        );
    }
    // No transaction is half there, acknowledged or not.
    let halves: i64 = c
        .query_one(
            "SELECT count(*) FROM ledger a WHERE pair IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM ledger b WHERE b.id = a.pair)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(halves, 0);
    let check = rusqlite::Connection::open_with_flags(
        server.data_dir().join("postgres/0.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let ok = crate::harness::integrity_check(&check);
    assert_eq!(ok, "ok");
}

/// Reads a replica's death interrupts are retried on another worker: the client sees
/// no error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_survive_replica_kills() {
    let server = TestServer::start_with(processes(2)).await;
    wait_for_workers(server.addr, 2).await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (id INT); INSERT INTO t VALUES (1), (2), (3)")
        .await
        .unwrap();
    let reader = tokio::spawn(async move {
        for _ in 0..1500 {
            assert_eq!(count(&c).await, 3);
        }
    });
    for _ in 0..3 {
        let rows = wait_for_workers(server.addr, 2).await;
        let killed = pid_of(&rows, "replica");
        signal(killed, "KILL");
        wait_until_gone(killed).await;
    }
    reader.await.unwrap();
}

/// Replicas come and go while a client reads and writes; nobody is dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_are_added_and_removed_under_load() {
    let server = TestServer::start_with(processes(1)).await;
    wait_for_workers(server.addr, 1).await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (id INT PRIMARY KEY)")
        .await
        .unwrap();
    let load = tokio::spawn(async move {
        for i in 1..=600i32 {
            c.execute("INSERT INTO t VALUES ($1)", &[&i]).await.unwrap();
            assert_eq!(count(&c).await, i as i64);
        }
    });
    let admin = connect_to_database(server.addr, "litescale").await.unwrap();
    admin.simple_query("ADD REPLICA 0").await.unwrap();
    admin.simple_query("ADD REPLICA postgres 0").await.unwrap();
    let rows = wait_for_workers(server.addr, 3).await;
    let primary = rows.iter().find(|r| r[3] == "primary").unwrap()[0].clone();
    let err = admin
        .simple_query(&format!("REMOVE WORKER {primary}"))
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "55000");
    for r in rows.iter().filter(|r| r[3] == "replica").take(2) {
        admin
            .simple_query(&format!("REMOVE WORKER {}", r[0]))
            .await
            .unwrap();
        wait_until_gone(r[6].parse().unwrap()).await;
    }
    wait_for_workers(server.addr, 1).await;
    load.await.unwrap();
    let rows = workers(server.addr).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
}

/// Scale to zero: an idle partition's workers stop; the next query starts them and is
/// answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_workers_stop_and_the_next_query_wakes_them() {
    let mut config = processes(1);
    config.workers.idle_stop_ms = 300;
    let server = TestServer::start_with(config).await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (id INT); INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    let pids: Vec<i32> = wait_for_workers(server.addr, 1)
        .await
        .iter()
        .map(|r| r[6].parse().unwrap())
        .collect();
    for pid in pids {
        wait_until_gone(pid).await;
    }
    let rows = workers(server.addr).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0][5], "asleep", "{rows:?}");
    // The same client connection: a read, then a write, wake the partition.
    assert_eq!(count(&c).await, 1);
    c.execute("INSERT INTO t VALUES (2)", &[]).await.unwrap();
    assert_eq!(count(&c).await, 2);
    assert!(workers(server.addr).await.iter().any(|r| r[3] == "primary"));
}

/// The real binary with worker processes: metrics report workers by state and failovers,
/// and the workers end with the proxy (even when it is SIGKILLed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_supervises_workers_and_reports_them() {
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("litescale.toml");
    std::fs::write(
        &config,
        "[workers]\nmode = \"processes\"\nreplicas = 1\nhealth_check_ms = 50\n",
    )
    .unwrap();
    let store = data.path().join("data");
    let mut args: Vec<&std::ffi::OsStr> = crate::harness::config_args(&store, &config).to_vec();
    args.extend([
        std::ffi::OsStr::new("--metrics"),
        std::ffi::OsStr::new("127.0.0.1:0"),
    ]);
    let server = crate::harness::ServerProcess::start_watching_stderr(&args, &[]);
    let metrics_addr = server.metrics_addr();
    let admin = connect_to_database(server.addr, "litescale").await.unwrap();
    let rows = wait_for_workers(server.addr, 1).await;
    let c = crate::harness::connect(server.addr).await;
    c.batch_execute("CREATE TABLE t (id INT); INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    let killed = pid_of(&rows, "primary");
    signal(killed, "KILL");
    wait_for_failover(server.addr, killed).await;
    wait_for_workers(server.addr, 1).await;
    c.execute("INSERT INTO t VALUES (2)", &[]).await.unwrap();
    let text = crate::harness::scrape(&metrics_addr).await;
    let value = |series: &str| crate::harness::sample(&text, series);
    assert_eq!(
        value(r#"litescale_failovers_total{database="postgres",partition="0"}"#),
        1.0
    );
    assert_eq!(
        value(r#"litescale_workers{database="postgres",role="primary",state="ready"}"#),
        1.0
    );
    assert_eq!(
        value(r#"litescale_workers{database="postgres",role="replica",state="ready"}"#),
        1.0
    );

    // RELOAD changes the replica set while the client stays connected.
    for replicas in [2, 0] {
        std::fs::write(
            &config,
            format!(
                "[workers]\nmode = \"processes\"\nreplicas = {replicas}\nhealth_check_ms = 50\n"
            ),
        )
        .unwrap();
        admin.simple_query("RELOAD").await.unwrap();
        wait_for_workers(server.addr, replicas).await;
        assert_eq!(
            c.query_one("SELECT count(*) FROM t", &[])
                .await
                .unwrap()
                .get::<_, i64>(0),
            2
        );
    }

    let pids: Vec<i32> = workers(server.addr)
        .await
        .iter()
        .map(|r| r[6].parse().unwrap())
        .collect();
    server.kill();
    for pid in pids {
        wait_until_gone(pid).await;
    }
}

/// A worker started outside litescale (`litescale worker --role auto`, as a container
/// would), serving `data` and printing its address.
struct External {
    child: std::process::Child,
    addr: String,
}

impl External {
    fn start(data: &std::path::Path, listen: &str) -> External {
        use std::io::BufRead;
        let mut child = std::process::Command::new(binary())
            .args(["worker", "--role", "auto", "--listen", listen, "--data"])
            .arg(data)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line.trim().rsplit(' ').next().unwrap().to_owned();
        External { child, addr }
    }
}

impl Drop for External {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Workers named in the config: roles learnt from them, a dead primary (no exit to
/// watch, only missed health checks) replaced by promoting the replica, and a restarted
/// worker back as a replica.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_workers_fail_over_on_missed_health_checks() {
    let data = tempfile::tempdir().unwrap();
    let mut first = External::start(data.path(), "127.0.0.1:0");
    let second = External::start(data.path(), "127.0.0.1:0");
    let mut config = processes(0);
    config.workers.mode = WorkerMode::External;
    config.workers.external = [&first.addr, &second.addr]
        .into_iter()
        .map(|address| litescale_config::ExternalWorker {
            database: "postgres".to_owned(),
            partition: 0,
            address: address.clone(),
        })
        .collect();
    let server = TestServer::start_in(config, data).await;
    let rows = wait_for_workers(server.addr, 1).await;
    assert_eq!(
        pid_of(&rows, "primary"),
        first.child.id() as i32,
        "{rows:?}"
    );
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1)")
        .await
        .unwrap();

    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match c.execute("INSERT INTO t VALUES (2)", &[]).await {
            Ok(_) => break,
            Err(e) => assert!(Instant::now() < deadline, "no failover: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rows = workers(server.addr).await;
    assert_eq!(
        pid_of(&rows, "primary"),
        second.child.id() as i32,
        "{rows:?}"
    );
    assert_eq!(count(&c).await, 2);

    // Restarted with the same command and address, the old primary comes back as a
    // replica and rejoins the read rotation.
    let restarted = External::start(server.data_dir(), &first.addr);
    let rows = wait_for_workers(server.addr, 1).await;
    assert_eq!(
        pid_of(&rows, "replica"),
        restarted.child.id() as i32,
        "{rows:?}"
    );
    let admin = connect_to_database(server.addr, "litescale").await.unwrap();
    let err = admin.simple_query("ADD REPLICA 0").await.unwrap_err();
    assert_eq!(sqlstate(&err), "0A000");
    drop(restarted);
}

/// Least-outstanding balance sends reads away from a replica busy with a long query; a
/// paused replica leaves the rotation and comes back when it answers again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_avoid_busy_and_unhealthy_replicas() {
    let mut config = processes(2);
    config.workers.balance = litescale_config::Balance::LeastOutstanding;
    let server = TestServer::start_with(config).await;
    wait_for_workers(server.addr, 2).await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (id INT); INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    let slow = server.client().await;
    let long = tokio::spawn(async move {
        slow.query_one(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) \
             SELECT count(*) FROM c",
            &[],
        )
        .await
        .unwrap()
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = workers(server.addr).await;
    for _ in 0..20 {
        assert_eq!(count(&c).await, 1);
    }
    assert!(
        !long.is_finished(),
        "the long query ended too soon to test anything"
    );
    let after = workers(server.addr).await;
    let served = |rows: &[Vec<String>], id: &str| -> u64 {
        rows.iter().find(|r| r[0] == id).unwrap()[7]
            .parse()
            .unwrap()
    };
    let replicas: Vec<String> = after
        .iter()
        .filter(|r| r[3] == "replica")
        .map(|r| r[0].clone())
        .collect();
    let gained: Vec<u64> = replicas
        .iter()
        .map(|id| served(&after, id) - served(&before, id))
        .collect();
    // All to the idle replica (each query also describes its statement there).
    assert!(
        gained.contains(&0) && gained.iter().any(|g| *g >= 20),
        "{gained:?}"
    );
    long.await.unwrap();

    // SIGSTOP: the replica misses health checks and leaves the rotation; reads go on.
    let paused = pid_of(&after, "replica");
    signal(paused, "STOP");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !workers(server.addr)
        .await
        .iter()
        .any(|r| r[6] == paused.to_string() && r[5] == "unhealthy")
    {
        assert!(
            Instant::now() < deadline,
            "the paused replica stayed in rotation"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for _ in 0..20 {
        assert_eq!(count(&c).await, 1);
    }
    signal(paused, "CONT");
    wait_for_workers(server.addr, 2).await;
}

/// A client that leaves in the middle of a transaction block: the worker's transaction
/// is rolled back before the next session's autocommit write (a group commit) runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_block_is_rolled_back_before_the_next_autocommit_write() {
    let server = TestServer::start_with(processes(0)).await;
    wait_for_workers(server.addr, 0).await;
    let setup = server.client().await;
    setup
        .batch_execute("CREATE TABLE t (id INT)")
        .await
        .unwrap();
    let leaving = server.client().await;
    leaving
        .batch_execute("BEGIN; INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    drop(leaving);
    let next = server.client().await;
    tokio::time::timeout(
        Duration::from_secs(10),
        next.execute("INSERT INTO t VALUES (2)", &[]),
    )
    .await
    .expect("the write must not wait for the abandoned block")
    .unwrap();
    let ids: Vec<i32> = next
        .query("SELECT id FROM t", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, [2]);
}

/// statement_timeout reaches a statement running in a worker process: the proxy sends an
/// Interrupt for the link it runs on (a reader's or the writer's), the statement ends
/// with 57014 there, and the link serves the next one at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_past_its_timeout_stops_in_its_worker() {
    let server = TestServer::start_with(processes(0)).await;
    wait_for_workers(server.addr, 0).await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (id INT); SET statement_timeout = 300")
        .await
        .unwrap();
    for long in [
        "SELECT count(*) FROM generate_series(1, 1000000000) a",
        "INSERT INTO t SELECT g FROM generate_series(1, 1000000000) g",
    ] {
        let started = Instant::now();
        let err = c.batch_execute(long).await.unwrap_err();
        assert_eq!(sqlstate(&err), "57014", "{long}: {err:?}");
        assert!(started.elapsed() < Duration::from_secs(10), "{long}");
    }
    // The writer is free: the interrupted INSERT stopped in the worker, not only here.
    c.batch_execute("RESET statement_timeout").await.unwrap();
    tokio::time::timeout(
        Duration::from_secs(5),
        c.execute("INSERT INTO t VALUES (1)", &[]),
    )
    .await
    .expect("the worker's writer is still busy")
    .unwrap();
    let count: i64 = c
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 1);
}
