//! Replicated storage's answers that need no second host: one JetStream node on
//! loopback, litescale in process. A new data directory attaches, from a snapshot once
//! the log is purged below one; restores start from snapshots; an engine that is not
//! there is named.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use litescale_config::Config;

use super::checkpointed;
use super::engine::{last_sequence, nats_server};
use super::hosts::Process;
use crate::harness::{TestServer, binary, connect_to_database, sqlstate};

/// One JetStream node on a free loopback port, its files in `dir`.
pub(super) fn one_node(dir: &std::path::Path) -> (Process, u16) {
    let (node, port, _) = one_node_monitored(dir);
    (node, port)
}

/// As `one_node`, with its monitoring endpoint on a free loopback port (the third).
fn one_node_monitored(dir: &std::path::Path) -> (Process, u16, u16) {
    let free_port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (port, monitor) = (free_port(), free_port());
    let mut command = Command::new(nats_server());
    command
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string()])
        .args(["-m", &monitor.to_string(), "-sd"])
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
    (node, port, monitor)
}

fn config(port: u16) -> Config {
    config_with(port, "").unwrap()
}

/// With more `[storage]` settings.
pub(super) fn config_with(
    port: u16,
    storage: &str,
) -> Result<Config, litescale_config::ConfigError> {
    Config::from_toml(
        &format!(
            "[storage]\nengine = \"jetstream\"\nservers = [\"127.0.0.1:{port}\"]\nreplicas = 1\n{storage}\n"
        ),
        std::path::Path::new("test.toml"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_host_attaches_what_committed() {
    let dir = tempfile::tempdir().unwrap();
    let (_node, port) = one_node(dir.path());
    let server = TestServer::start_with(config(port)).await;
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
    let attached = TestServer::start_with(config(port)).await;
    let c = attached.client().await;
    let rows: Vec<(i32, String)> = pairs(&c, "SELECT id, v FROM items ORDER BY id").await;
    assert_eq!(
        rows,
        (1..=20)
            .map(|id| (id, "one".to_owned()))
            .collect::<Vec<_>>()
    );
}

/// Commits made at once share the log's appends (group commit): the log holds fewer
/// messages than there were commits (each a transaction of its own), the primary's file names the log's last message as
/// the one that holds its last commit (each commit stamps the message it will be in before
/// it commits), and a new host attaches every acknowledged row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_made_at_once_share_appends_and_each_is_on_the_log() {
    const CLIENTS: i32 = 16;
    const EACH: i32 = 40;
    const STREAM: &str = "LS_postgres_P0";
    let dir = tempfile::tempdir().unwrap();
    let (_node, port, monitor) = one_node_monitored(dir.path());
    let monitor = format!("127.0.0.1:{monitor}");
    let server = TestServer::start_with(config(port)).await;
    server
        .client()
        .await
        .batch_execute("CREATE TABLE items (id int PRIMARY KEY, v text)")
        .await
        .unwrap();
    let before = last_sequence(&monitor, STREAM).expect("the partition's stream");
    let writers = (0..CLIENTS).map(|client| {
        let server = &server;
        async move {
            let c = server.client().await;
            // Transactions of their own: autocommit writes would share SQLite commits.
            for i in 0..EACH {
                let id = client * EACH + i;
                c.batch_execute(&format!(
                    "BEGIN; INSERT INTO items VALUES ({id}, 'x'); COMMIT"
                ))
                .await
                .unwrap();
            }
        }
    });
    futures::future::join_all(writers).await;
    let last = last_sequence(&monitor, STREAM).unwrap();
    let (messages, commits) = (last - before, (CLIENTS * EACH) as u64);
    assert!(
        messages < commits,
        "{messages} messages on the log for {commits} commits: none shared"
    );
    let stamped: i64 = rusqlite::Connection::open(server.data_dir().join("postgres/0.db"))
        .unwrap()
        .query_row("SELECT first_sequence FROM _litescale_log", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(
        stamped as u64, last,
        "the file's last commit is the log's last message"
    );
    drop(server);

    let attached = TestServer::start_with(config(port)).await;
    let c = attached.client().await;
    let row = c
        .query_one("SELECT count(*), sum(id) FROM items", &[])
        .await
        .unwrap();
    let n = i64::from(CLIENTS * EACH);
    assert_eq!(
        (row.get::<_, i64>(0), row.get::<_, i64>(1)),
        (n, n * (n - 1) / 2)
    );
    checkpointed(&attached.data_dir().join("postgres/0.db"));
}

/// The rows of a query of two columns.
async fn pairs<A, B>(c: &tokio_postgres::Client, sql: &str) -> Vec<(A, B)>
where
    A: for<'a> tokio_postgres::types::FromSql<'a>,
    B: for<'a> tokio_postgres::types::FromSql<'a>,
{
    c.query(sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

const LENGTHS: &str = "SELECT id, length(v)::int8 FROM blobs ORDER BY id";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_let_the_log_be_purged_a_new_host_start_from_one_and_a_restore_use_one() {
    let dir = tempfile::tempdir().unwrap();
    let (_node, port) = one_node(dir.path());
    let config = config_with(port, "snapshot_every_mb = 1\nsnapshots_kept = 1").unwrap();
    let server = TestServer::start_with(config.clone()).await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE blobs (id int PRIMARY KEY, v text)")
        .await
        .unwrap();
    // About 60 KB of pages a commit, of hex digits that LZ4 cannot shrink (the log's
    // pages are compressed): a snapshot every 17 or so.
    for id in 1..=60 {
        c.execute(
            "INSERT INTO blobs SELECT $1::int, string_agg(md5((g * 100 + $1::int)::text), '') FROM generate_series(1, 1875) g",
            &[&id],
        )
        .await
        .unwrap();
    }

    // The log is purged below the newest snapshot (taken off the commit path): a restore
    // to its first message is refused, saying how far back restores reach.
    let restores = tempfile::tempdir().unwrap();
    let restore_config = Config {
        data_dir: restores.path().to_owned(),
        ..config.clone()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let refused = loop {
        let early = litescale_shard::restore(
            &restore_config,
            "postgres",
            litescale_shard::RestorePoint::Position(1),
            "early",
        );
        match early {
            Err(e) => break e,
            Ok(_) => {
                std::fs::remove_dir_all(restores.path().join("early")).unwrap();
                assert!(Instant::now() < deadline, "the log was never purged");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    assert_eq!(refused.sqlstate, "22023", "{refused:?}");
    assert!(
        refused
            .message
            .contains("no further back than its oldest snapshot"),
        "{}",
        refused.message
    );
    assert!(!restores.path().join("early").exists());

    // A restore to now starts from the snapshot and replays the log after it.
    let now = litescale_shard::RestorePoint::Time(chrono::Utc::now());
    let restored = litescale_shard::restore(&restore_config, "postgres", now, "pitr").unwrap();
    assert!(restored[0].snapshot.is_some(), "{restored:?}");
    let expected: Vec<(i32, i64)> = pairs(&c, LENGTHS).await;
    assert_eq!(expected.len(), 60);
    drop(c);
    drop(server);

    // A new host starts from the snapshot and the log after it: the same rows, the same
    // bytes as the primary's file.
    let attached = TestServer::start_with(config.clone()).await;
    let c = attached.client().await;
    let rows: Vec<(i32, i64)> = pairs(&c, LENGTHS).await;
    assert_eq!(rows, expected);
    drop(c);
    let attached_file = checkpointed(&attached.data_dir().join("postgres/0.db"));
    drop(attached);
    let now = litescale_shard::RestorePoint::Time(chrono::Utc::now());
    litescale_shard::restore(&restore_config, "postgres", now, "copy").unwrap();
    assert!(
        attached_file == checkpointed(&restores.path().join("copy/0.db")),
        "a file attached from a snapshot differs from the log's replay"
    );

    let restored_server = TestServer::start_in(restore_config, restores).await;
    let pitr = connect_to_database(restored_server.addr, "pitr")
        .await
        .unwrap();
    let count: i64 = pitr
        .query_one("SELECT count(*) FROM blobs", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 60);
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
