//! Operations: the Prometheus endpoint, whose numbers move with what clients do.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{ServerProcess, connect, sqlstate};

async fn get(addr: &str, path: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).await.unwrap();
    response
}

/// The value of the sample whose line starts with `series` (name and labels).
fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in:\n{metrics}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_endpoint_reports_what_clients_do() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_watching_stderr(
        &[
            "--listen".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--data".as_ref(),
            data.path().as_os_str(),
            "--metrics".as_ref(),
            "127.0.0.1:0".as_ref(),
        ],
        &[],
    );
    let line = server.wait_for_stderr("metrics on http://");
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.strip_suffix("/metrics"))
        .unwrap()
        .to_owned();
    let c = connect(server.addr).await;
    c.batch_execute("CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1), (2), (3)")
        .await
        .unwrap();
    for _ in 0..5 {
        c.query("SELECT * FROM t", &[]).await.unwrap();
    }
    let err = c.query("SELECT * FROM missing", &[]).await.unwrap_err();
    assert_eq!(sqlstate(&err), "42P01");

    let first = get(&addr, "/metrics").await;
    assert!(first.starts_with("HTTP/1.1 200 OK"), "{first}");
    let reads = r#"litescale_queries_total{database="postgres",kind="read"}"#;
    assert!(sample(&first, reads) >= 5.0);
    assert!(sample(&first, r#"litescale_errors_total{sqlstate="42P01"}"#) >= 1.0);
    assert!(sample(&first, "litescale_client_connections") >= 1.0);
    assert!(sample(&first, r#"litescale_storage_bytes{database="postgres"}"#) > 0.0);
    let returned = r#"litescale_usage_rows_returned_total{database="postgres"}"#;
    assert!(sample(&first, returned) >= 15.0);
    assert!(
        first.contains("litescale_query_duration_seconds_bucket"),
        "latency histogram"
    );
    assert!(first.contains(
        r#"litescale_partition_statements_total{database="postgres",partition="0",role="reader"}"#
    ));

    for _ in 0..3 {
        c.query("SELECT * FROM t", &[]).await.unwrap();
    }
    let second = get(&addr, "/metrics").await;
    assert_eq!(sample(&second, reads), sample(&first, reads) + 3.0);
    assert_eq!(sample(&second, returned), sample(&first, returned) + 9.0);
    assert!(get(&addr, "/other").await.starts_with("HTTP/1.1 404"));
}
