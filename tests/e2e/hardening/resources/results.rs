//! What one connection may make the server hold (issue 21, item 7): a result the client
//! does not read streams no faster than the client takes it, in the extended protocol as
//! in the simple one; a message over `limits.max_message_mb` is read past and refused
//! with 54000; memory a large result took goes back to the system afterwards.

use std::time::{Duration, Instant};

use litescale_config::Config;

use crate::harness::{RawClient, ServerProcess, TestServer, tags};

/// A process's peak resident memory (VmHWM) in MiB.
fn peak_rss_mb(pid: u32) -> u64 {
    status_mb(pid, "VmHWM:")
}

/// A memory line of /proc/<pid>/status, in MiB.
fn status_mb(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(key))
        .unwrap_or_else(|| panic!("{key} in /proc/<pid>/status"));
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb / 1024
}

/// The most the server may reach while a client does not read a 1 GB result: a few
/// buffers of rows, not the result. Idle, the debug binary is at about 25 MiB; holding
/// the result it passed 2 GiB.
const UNREAD_RESULT_BOUND_MB: u64 = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unread_extended_result_holds_the_server_to_a_bounded_buffer() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data.path());
    let pid = server.child.id();
    let mut reader = RawClient::connect(server.addr).await;
    // A million rows of 1,000 bytes and more: 1 GB as DataRows.
    let wide = "x".repeat(1000);
    let sql = format!("SELECT g, '{wide}' FROM generate_series(1, 1000000) g");
    reader.parse("", &sql, &[]).await;
    reader.bind("", "", &[], 0, 0).await;
    reader.execute("", 0).await;
    reader.send(b'S', &[]).await;
    // The client reads nothing for a while; the server must not take the result in.
    let watch_until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < watch_until {
        let peak = peak_rss_mb(pid);
        assert!(
            peak < UNREAD_RESULT_BOUND_MB,
            "the server reached {peak} MiB holding a result nobody reads"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Meanwhile another client is served.
    let mut other = RawClient::connect(server.addr).await;
    let (answer, status) = other.query("SELECT 1").await;
    assert_eq!(tags(&answer), "TDC");
    assert_eq!(status, b'I');
    // The first client starts reading: the rows come, in order.
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let m = reader.recv().await;
        if m.tag == b'D' {
            seen.push(m.fields()[0].clone().unwrap());
        }
    }
    assert_eq!(seen, [b"1".to_vec(), b"2".to_vec(), b"3".to_vec()]);
}

/// A process's resident memory (VmRSS) in MiB.
fn rss_mb(pid: u32) -> u64 {
    status_mb(pid, "VmRSS:")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_a_materialised_result_took_goes_back_to_the_system() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data.path());
    let pid = server.child.id();
    let mut raw = RawClient::connect(server.addr).await;
    // Inside a block a result is materialised: 200,000 rows of 1,000 bytes.
    let wide = "x".repeat(1000);
    let sql = format!("BEGIN; SELECT g, '{wide}' FROM generate_series(1, 200000) g; COMMIT");
    let (answer, status) = raw.query(&sql).await;
    assert_eq!(answer.len(), 200_000 + 4);
    assert_eq!(status, b'I');
    let peak = peak_rss_mb(pid);
    assert!(
        peak > 200,
        "the result was not held whole (peak {peak} MiB)"
    );
    // Once sent, the memory goes back, not only to malloc.
    let deadline = Instant::now() + Duration::from_secs(20);
    while rss_mb(pid) > 100 {
        assert!(
            Instant::now() < deadline,
            "the server still holds {} MiB after the result (peak {peak} MiB)",
            rss_mb(pid)
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_max_message_mb_gets_54000_and_the_connection_goes_on() {
    let mut config = Config::default();
    config.limits.max_message_mb = 1;
    let server = TestServer::start_with(config).await;
    let mut raw = RawClient::connect(server.addr).await;
    let huge = format!("SELECT length('{}')", "x".repeat(3 << 20));

    // Simple protocol: the error, then ReadyForQuery; the session goes on.
    let (answer, status) = raw.query(&huge).await;
    assert_eq!(tags(&answer), "E");
    assert_eq!(answer[0].sqlstate().as_deref(), Some("54000"));
    assert!(
        answer[0].text().contains("limits.max_message_mb"),
        "{}",
        answer[0].text()
    );
    assert_eq!(status, b'I');
    let (answer, _) = raw.query("SELECT 1").await;
    assert_eq!(tags(&answer), "TDC");

    // Extended protocol: the rest of the batch is skipped until Sync.
    raw.parse("", &huge, &[]).await;
    raw.bind("", "", &[], 0, 0).await;
    raw.execute("", 0).await;
    let (answer, status) = raw.sync().await;
    assert_eq!(tags(&answer), "E");
    assert_eq!(answer[0].sqlstate().as_deref(), Some("54000"));
    assert_eq!(status, b'I');
    raw.parse("", "SELECT 2", &[]).await;
    raw.bind("", "", &[], 0, 0).await;
    raw.execute("", 0).await;
    let (answer, _) = raw.sync().await;
    assert_eq!(tags(&answer), "12DC");
    assert_eq!(answer[2].fields(), [Some(b"2".to_vec())]);

    // A message just under the limit is served.
    let (answer, _) = raw
        .query(&format!("SELECT length('{}')", "x".repeat(1000 * 1000)))
        .await;
    assert_eq!(tags(&answer), "TDC");
    assert_eq!(answer[1].fields(), [Some(b"1000000".to_vec())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_data_over_max_message_mb_ends_the_copy_with_54000() {
    let mut config = Config::default();
    config.limits.max_message_mb = 1;
    let server = TestServer::start_with(config).await;
    let mut raw = RawClient::connect(server.addr).await;
    raw.query("CREATE TABLE t (a TEXT)").await;
    raw.send(b'Q', b"COPY t FROM STDIN\0").await;
    assert_eq!(raw.recv().await.tag, b'G');
    raw.send(b'd', b"kept?\n").await;
    raw.send(b'd', &vec![b'x'; 2 << 20]).await;
    let (answer, status) = raw.until_ready().await;
    assert_eq!(tags(&answer), "E");
    assert_eq!(answer[0].sqlstate().as_deref(), Some("54000"));
    assert_eq!(status, b'I');
    // What the COPY had taken is undone, and the session goes on.
    let (answer, _) = raw.query("SELECT count(*) FROM t").await;
    assert_eq!(answer[1].fields(), [Some(b"0".to_vec())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_portal_suspends_and_resumes_with_max_rows() {
    let server = TestServer::start().await;
    let mut raw = RawClient::connect(server.addr).await;
    raw.parse("s", "SELECT g FROM generate_series(1, $1::int) g", &[])
        .await;
    raw.bind("p", "s", &[Some(b"100000")], 0, 0).await;
    raw.execute("p", 1000).await;
    raw.execute("p", 1000).await;
    raw.execute("p", 0).await;
    let (answer, status) = raw.sync().await;
    assert_eq!(answer.len(), 2 + 1000 + 1 + 1000 + 1 + 98000 + 1);
    assert_eq!(tags(&answer[..3]), "12D");
    assert_eq!(answer[2].fields(), [Some(b"1".to_vec())]);
    assert_eq!(answer[1002].tag, b's');
    assert_eq!(answer[1003].fields(), [Some(b"1001".to_vec())]);
    assert_eq!(answer[2003].tag, b's');
    // The last Execute takes the rest, and its CommandComplete counts its own rows.
    assert_eq!(answer[2004].fields(), [Some(b"2001".to_vec())]);
    assert_eq!(answer[100003].fields(), [Some(b"100000".to_vec())]);
    assert_eq!(answer[100004].text(), "SELECT 98000");
    assert_eq!(status, b'I');
    // Closing a suspended portal ends its query; the session goes on.
    raw.bind("q", "s", &[Some(b"100000")], 0, 0).await;
    raw.execute("q", 1).await;
    raw.close(b'P', "q").await;
    let (answer, _) = raw.sync().await;
    assert_eq!(tags(&answer), "2Ds3");
    let (answer, _) = raw.query("SELECT 1").await;
    assert_eq!(tags(&answer), "TDC");
}
