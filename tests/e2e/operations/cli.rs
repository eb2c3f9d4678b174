//! The `litescale` command line: help, config file and flags, clean shutdown.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::harness::{ServerProcess, binary, connect};

#[test]
fn help_documents_the_flags() {
    let out = Command::new(binary()).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in ["--listen", "--data", "--config", "5480", "litescale-data"] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
}

#[test]
fn a_wrong_config_file_is_refused_naming_the_field_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:0\"\n\n[storage]\nsynchronus = \"full\"\n",
    )
    .unwrap();
    let out = Command::new(binary())
        .arg("--config")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("synchronus") && err.contains("line 4"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_win_over_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let from_file = dir.path().join("from-file");
    let from_flag = dir.path().join("from-flag");
    let file = dir.path().join("litescale.toml");
    std::fs::write(
        &file,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = \"{}\"\n",
            from_file.display()
        ),
    )
    .unwrap();
    let server = ServerProcess::start_with(&[
        "--config".as_ref(),
        file.as_os_str(),
        "--data".as_ref(),
        from_flag.as_os_str(),
    ]);
    let c = connect(server.addr).await;
    c.batch_execute("CREATE TABLE t (a INT)").await.unwrap();
    assert!(from_flag.join("postgres").join("0.db").exists());
    assert!(!from_file.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_shuts_down_cleanly() {
    let data = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(data.path());
    let c = connect(server.addr).await;
    c.batch_execute("CREATE TABLE t (a INT); INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    // A read opens reader connections, which must not keep the WAL alive at shutdown.
    c.query("SELECT * FROM t", &[]).await.unwrap();
    // A statement that would run forever on its connection's thread must not hold the
    // shutdown up: it is interrupted.
    let busy = connect(server.addr).await;
    busy.batch_execute("BEGIN").await.unwrap();
    let endless = tokio::spawn(async move {
        busy.query(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
            &[],
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!endless.is_finished());
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
    assert!(endless.await.unwrap().is_err());
    // Closing the last connection checkpoints SQLite's WAL into the database file.
    let wal = data.path().join("postgres").join("0.db-wal");
    assert!(!wal.exists(), "WAL left behind: not closed cleanly");
    let db = rusqlite::Connection::open(data.path().join("postgres").join("0.db")).unwrap();
    let n: i64 = db
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_partitioned_example_configuration_serves() {
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/pgbench-4-partitions.toml"
    );
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_with(&[
        "--config".as_ref(),
        example.as_ref(),
        "--listen".as_ref(),
        "127.0.0.1:0".as_ref(),
        "--data".as_ref(),
        dir.path().as_os_str(),
    ]);
    let c = connect(server.addr).await;
    c.batch_execute("CREATE TABLE pgbench_branches (bid INT PRIMARY KEY, bbalance INT)")
        .await
        .unwrap();
    for bid in 1..=8i32 {
        c.execute("INSERT INTO pgbench_branches VALUES ($1, 0)", &[&bid])
            .await
            .unwrap();
    }
    let n: i64 = c
        .query_one("SELECT count(*) FROM pgbench_branches", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 8);
    for p in 0..4 {
        assert!(dir.path().join("postgres").join(format!("{p}.db")).exists());
    }
}

/// No Docker engine runs here, so the compose file is checked by reading it: its
/// litescale config is valid, and every worker it names is a service that serves that
/// partition.
#[test]
fn the_compose_file_describes_a_valid_stack() {
    let compose = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docker-compose.yml");
    let out = Command::new("python3")
        .arg("-c")
        .arg(
            "import json, sys, yaml; c = yaml.safe_load(open(sys.argv[1])); \
             print(json.dumps({'config': c['configs']['litescale']['content'], \
             'replicated': c['configs']['litescale-replicated']['content'], \
             'commands': {n: s.get('command', []) for n, s in c['services'].items()}, \
             'volumes': {n: s.get('volumes', []) for n, s in c['services'].items()}, \
             'contents': {n: v.get('content') for n, v in c['configs'].items()}, \
             'configs': {n: [x['source'] for x in s.get('configs', [])] for n, s in c['services'].items()}, \
             'networks': {n: s.get('networks') for n, s in c['services'].items()}}))",
        )
        .arg(&compose)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stack: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let config =
        litescale_config::Config::from_toml(stack["config"].as_str().unwrap(), &compose).unwrap();
    assert_eq!(config.workers.mode, litescale_config::WorkerMode::External);
    let map = config.partition_map().unwrap();
    for partition in 0..map.count() {
        let serving: Vec<_> = config
            .workers
            .external
            .iter()
            .filter(|w| w.partition == partition)
            .collect();
        assert_eq!(
            serving.len(),
            2,
            "partition {partition}: a primary and a replica"
        );
        for worker in serving {
            let service = worker.address.split(':').next().unwrap();
            let command: Vec<String> =
                serde_json::from_value(stack["commands"][service].clone()).unwrap();
            let arg = |flag: &str| {
                let i = command.iter().position(|a| a == flag).unwrap();
                command[i + 1].clone()
            };
            assert_eq!(command[0], "worker", "{service}: {command:?}");
            assert_eq!(arg("--partition"), partition.to_string(), "{service}");
            assert_eq!(arg("--role"), "auto", "{service}");
            assert_eq!(stack["volumes"][service][0], "storage:/data", "{service}");
        }
    }
    assert_eq!(stack["volumes"]["proxy"][0], "storage:/data");
    // The replicated profile: litescale on the logs of the three engine services.
    let replicated =
        litescale_config::Config::from_toml(stack["replicated"].as_str().unwrap(), &compose)
            .unwrap();
    assert_eq!(
        replicated.storage.engine,
        litescale_config::StorageEngine::Jetstream
    );
    for server in &replicated.storage.servers {
        let service = server.split(':').next().unwrap();
        let command: Vec<String> =
            serde_json::from_value(stack["commands"][service].clone()).unwrap();
        assert!(
            command.iter().any(|a| a == "--jetstream"),
            "{service}: {command:?}"
        );
    }
    // Two litescale processes on those logs, each with its own config whose peer_listen
    // is the fixed address of its own service (where the other reaches it).
    let mut peers = Vec::new();
    for service in ["replicated", "replicated-peer"] {
        let source = stack["configs"][service][0].as_str().unwrap();
        let config = litescale_config::Config::from_toml(
            stack["contents"][source].as_str().unwrap(),
            &compose,
        )
        .unwrap();
        assert_eq!(
            config.storage.servers, replicated.storage.servers,
            "{service}"
        );
        let address = stack["networks"][service]["replicated"]["ipv4_address"]
            .as_str()
            .unwrap_or_else(|| panic!("{service} has no fixed address"));
        let listen: std::net::SocketAddr = config
            .storage
            .peer_listen
            .expect("peer_listen")
            .parse()
            .unwrap();
        assert_eq!(listen.ip().to_string(), address, "{service}");
        peers.push(listen);
    }
    assert_ne!(peers[0], peers[1]);
}
