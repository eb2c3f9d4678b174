//! Operational numbers: counters and histograms recorded with the `metrics` crate where
//! things happen (queries, errors, connections, partition statements, cross-partition
//! commits, deadlocks), and a Prometheus text endpoint (`GET /metrics`) that renders
//! them with gauges read at scrape time from the storage: open databases, their workers,
//! bytes on disk and each tenant's metered usage.

use std::sync::{Arc, OnceLock};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::server::shared::Server;

/// Latency buckets, in seconds: 50 µs to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 10.0,
];

/// The process's Prometheus recorder, installed by the first metrics endpoint. `None` if
/// another recorder was installed first.
fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), LATENCY_BUCKETS)
                .ok()?
                .install_recorder()
                .ok()
        })
        .as_ref()
}

/// Installs the recorder now (so nothing recorded from here on is lost) and returns the
/// task serving `GET /metrics` on `listener`. The endpoint speaks just enough HTTP/1.1
/// for Prometheus and curl; the exporter's own listener would install a second recorder
/// for each server in one process (as the tests run several).
pub fn serve_metrics(
    server: Arc<Server>,
    listener: TcpListener,
) -> impl std::future::Future<Output = std::io::Result<()>> {
    let handle = handle();
    async move {
        let Some(handle) = handle else {
            tracing::warn!("another metrics recorder is installed; /metrics serves nothing");
            return Ok(());
        };
        accept_scrapes(server, listener, handle).await
    }
}

async fn accept_scrapes(
    server: Arc<Server>,
    listener: TcpListener,
    handle: &'static PrometheusHandle,
) -> std::io::Result<()> {
    loop {
        let (socket, peer) = listener.accept().await?;
        let server = Arc::clone(&server);
        tokio::spawn(async move {
            if let Err(e) = respond(socket, &server, handle).await {
                tracing::debug!(%peer, error = %e, "metrics request failed");
            }
        });
    }
}

async fn respond(
    mut socket: TcpStream,
    server: &Server,
    handle: &PrometheusHandle,
) -> std::io::Result<()> {
    let mut request = Vec::new();
    let mut chunk = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 8192 {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&chunk[..n]);
    }
    let wanted = request.starts_with(b"GET /metrics ") || request.starts_with(b"GET /metrics?");
    let (status, body) = if wanted {
        record_storage(server);
        ("200 OK", handle.render())
    } else {
        (
            "404 Not Found",
            "only GET /metrics is served here\n".to_owned(),
        )
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(body.as_bytes()).await?;
    socket.shutdown().await
}

/// Gauges and counters kept by the storage, read when scraped.
fn record_storage(server: &Server) {
    for (name, db) in server.storage.open_databases() {
        let bytes = server.storage.bytes_stored(&name);
        metrics::gauge!("litescale_storage_bytes", "database" => name.clone()).set(bytes as f64);
        record_workers(&name, &db);
        let usage = db.usage.snapshot();
        metrics::counter!("litescale_usage_statements_total", "database" => name.clone())
            .absolute(usage.statements);
        metrics::counter!("litescale_usage_rows_returned_total", "database" => name.clone())
            .absolute(usage.rows_returned);
        metrics::counter!("litescale_usage_rows_written_total", "database" => name.clone())
            .absolute(usage.rows_written);
        metrics::gauge!("litescale_usage_compute_seconds", "database" => name)
            .set(usage.compute_nanos as f64 / 1e9);
    }
}

/// Workers by role and state (every combination, so that one that drops to zero shows
/// zero), and each worker process's health.
fn record_workers(database: &str, db: &litescale_shard::Database) {
    const STATES: [&str; 5] = ["running", "ready", "unhealthy", "stopping", "deposed"];
    let mut counts = std::collections::BTreeMap::new();
    for (i, partition) in db.partitions.iter().enumerate() {
        let Some(group) = partition.workers() else {
            *counts.entry(("primary", "running")).or_insert(0) += 1;
            continue;
        };
        for w in group.describe() {
            *counts.entry((w.role.as_str(), w.state)).or_insert(0) += 1;
            metrics::gauge!("litescale_worker_healthy",
                "database" => database.to_owned(), "partition" => i.to_string(),
                "worker" => w.id.to_string(), "role" => w.role.as_str())
            .set(if w.state == "ready" { 1.0 } else { 0.0 });
        }
    }
    for role in ["primary", "replica"] {
        for state in STATES {
            let n = counts.get(&(role, state)).copied().unwrap_or(0);
            metrics::gauge!("litescale_workers", "database" => database.to_owned(), "role" => role, "state" => state)
                .set(n as f64);
        }
    }
}
