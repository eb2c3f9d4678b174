//! Replicated storage's answers that need no second host: one JetStream node on
//! loopback, litescale in process. A new data directory attaches; several partitions
//! are refused rather than left with cross-partition decisions on one host; an engine
//! that is not there is named.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use litescale_config::Config;

use super::engine::nats_server;
use super::hosts::Process;
use crate::harness::{TestServer, binary, sqlstate};

/// One JetStream node on a free loopback port, its files in `dir`.
fn one_node(dir: &std::path::Path) -> (Process, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = Command::new(nats_server());
    command
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(dir.join("js"))
        .stderr(std::process::Stdio::null());
    let node = Process::start(command, None);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the JetStream node did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (node, port)
}

fn config(port: u16, partitions: usize) -> Result<Config, litescale_config::ConfigError> {
    Config::from_toml(
        &format!(
            "[storage]\nengine = \"jetstream\"\nservers = [\"127.0.0.1:{port}\"]\nreplicas = 1\n\
             [partitions]\ncount = {partitions}\n"
        ),
        std::path::Path::new("test.toml"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_host_attaches_what_committed_and_one_partition_per_database_is_required() {
    // A transaction over several partitions (DDL is one) commits by a decision kept on
    // one host: refused up front rather than lost with that host.
    let err = config(1, 2).unwrap_err().to_string();
    assert!(
        err.contains("partitions.count") && err.contains("one partition"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let (_node, port) = one_node(dir.path());
    let server = TestServer::start_with(config(port, 1).unwrap()).await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE items (id int PRIMARY KEY, v text)")
        .await
        .unwrap();
    for id in 1..=20 {
        c.execute("INSERT INTO items VALUES ($1, 'one')", &[&id])
            .await
            .unwrap();
    }
    // A transaction that fails leaves nothing on the log.
    let err = c
        .batch_execute("BEGIN; UPDATE items SET v = 'two'; SELECT 1/0; COMMIT")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "22012", "{err:?}");
    c.batch_execute("ROLLBACK").await.unwrap();
    drop(c);
    drop(server);

    // Another litescale with an empty data directory: the rows come from the log.
    let attached = TestServer::start_with(config(port, 1).unwrap()).await;
    let c = attached.client().await;
    let rows: Vec<(i32, String)> = c
        .query("SELECT id, v FROM items ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        rows,
        (1..=20)
            .map(|id| (id, "one".to_owned()))
            .collect::<Vec<_>>()
    );
}

#[test]
fn an_engine_that_does_not_answer_at_start_is_named() {
    let dir = tempfile::tempdir().unwrap();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config: PathBuf = dir.path().join("litescale.toml");
    std::fs::write(
        &config,
        format!("[storage]\nengine = \"jetstream\"\nservers = [\"127.0.0.1:{port}\"]\n"),
    )
    .unwrap();
    let out = Command::new(binary())
        .arg("--config")
        .arg(&config)
        .arg("--data")
        .arg(dir.path().join("data"))
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "cannot reach the storage engine (NATS JetStream) at 127.0.0.1:{port}"
        )),
        "{stderr}"
    );
}
