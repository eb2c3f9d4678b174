//! Worker-process numbers (run by bench/workers.sh): failover time over N SIGKILLs of the
//! primary, replica attach time, cold start after scale to zero, and point-select latency
//! through a remote worker against the in-process default.
//!
//!   cargo run --release --example workers -- <litescale binary> [kills]

use std::time::{Duration, Instant};

use tokio_postgres::Client;

#[path = "server.rs"]
mod server;
use server::{connect, start};

/// SHOW WORKERS: (worker, role, state, pid).
async fn workers(admin: &Client) -> Vec<(String, String, String, i32)> {
    let mut out = Vec::new();
    for m in admin.simple_query("SHOW WORKERS").await.unwrap() {
        if let tokio_postgres::SimpleQueryMessage::Row(r) = m {
            let pid = r.get(6).unwrap_or("0").parse().unwrap_or(0);
            out.push((
                r.get(0).unwrap().to_owned(),
                r.get(3).unwrap().to_owned(),
                r.get(5).unwrap().to_owned(),
                pid,
            ));
        }
    }
    out
}

async fn wait_ready(admin: &Client, replicas: usize) -> i32 {
    loop {
        let rows = workers(admin).await;
        let ready = |role: &str| {
            rows.iter()
                .filter(|w| w.1 == role && w.2 == "ready")
                .count()
        };
        if ready("primary") == 1 && ready("replica") == replicas {
            return rows.iter().find(|w| w.1 == "primary").unwrap().3;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn summary(name: &str, unit: &str, mut values: Vec<f64>) {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "{name:<44} n={:<6} p50={:>9.3} {unit}  p99={:>9.3} {unit}  max={:>9.3} {unit}",
        values.len(),
        percentile(&values, 0.5),
        percentile(&values, 0.99),
        values.last().unwrap()
    );
}

async fn point_selects(port: u16, n: usize) -> Vec<f64> {
    let c = connect(port, "postgres").await;
    c.batch_execute(
        "CREATE TABLE kv (id INT PRIMARY KEY, v TEXT);
         INSERT INTO kv SELECT i, 'value ' || i FROM generate_series(1, 1000) AS g(i)",
    )
    .await
    .unwrap();
    let stmt = c.prepare("SELECT v FROM kv WHERE id = $1").await.unwrap();
    let mut out = Vec::with_capacity(n);
    for i in 0..n + 1000 {
        let id = (i % 1000) as i32 + 1;
        let started = Instant::now();
        c.query_one(&stmt, &[&id]).await.unwrap();
        if i >= 1000 {
            out.push(started.elapsed().as_secs_f64() * 1e6);
        }
    }
    out
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let binary = args
        .next()
        .expect("usage: workers <litescale binary> [kills]");
    let kills: usize = args.next().map_or(50, |k| k.parse().unwrap());
    let processes = "[workers]\nmode = \"processes\"\nreplicas = 1\nhealth_check_ms = 50\n";

    // Failover: SIGKILL of the primary to the first write that succeeds through the proxy.
    let server = start(&binary, processes);
    let admin = connect(server.port, "litescale").await;
    let c = connect(server.port, "postgres").await;
    wait_ready(&admin, 1).await;
    c.batch_execute("CREATE TABLE t (id INT PRIMARY KEY)")
        .await
        .unwrap();
    // A ledger of acknowledged inserts: a writer task inserts without pause while the
    // primary is killed, and every id it was told committed must be there at the end.
    let writer = connect(server.port, "postgres").await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopping = std::sync::Arc::clone(&stop);
    let ledger = tokio::spawn(async move {
        let (mut acked, mut refused) = (Vec::new(), 0);
        let mut id = 1_000_000;
        while !stopping.load(std::sync::atomic::Ordering::Relaxed) {
            id += 1;
            match writer.execute("INSERT INTO t VALUES ($1)", &[&id]).await {
                Ok(_) => acked.push(id),
                Err(_) => refused += 1,
            }
        }
        (acked, refused)
    });
    let mut failovers = Vec::new();
    let mut errors = 0;
    for n in 0..kills as i32 {
        let pid = wait_ready(&admin, 1).await;
        let killed = Instant::now();
        // SAFETY: kill(2) on a pid this process's child started; no memory is involved.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        loop {
            match c.execute("INSERT INTO t VALUES ($1)", &[&n]).await {
                Ok(_) => break,
                Err(_) => errors += 1,
            }
        }
        failovers.push(killed.elapsed().as_secs_f64() * 1e3);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (acked, refused) = ledger.await.unwrap();
    summary("failover: SIGKILL -> first write (ms)", "ms", failovers);
    println!(
        "{:<44} {errors} (retried at once)",
        "  writes refused during the failovers"
    );
    let present: std::collections::HashSet<i32> = c
        .query("SELECT id FROM t", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let lost = acked.iter().filter(|id| !present.contains(id)).count();
    println!(
        "{:<44} {} acknowledged, {refused} refused, {lost} lost",
        "  ledger of a concurrent writer",
        acked.len()
    );
    assert_eq!(lost, 0, "acknowledged inserts were lost");

    // Attach: ADD REPLICA until the new worker serves.
    let mut attach = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        admin.simple_query("ADD REPLICA 0").await.unwrap();
        attach.push(started.elapsed().as_secs_f64() * 1e3);
    }
    summary("replica attach: ADD REPLICA -> serving (ms)", "ms", attach);
    drop(server);

    // Cold start: a partition asleep after idle_stop_ms, woken by a query.
    let sleepy = start(
        &binary,
        "[workers]\nmode = \"processes\"\nreplicas = 0\nhealth_check_ms = 20\nidle_stop_ms = 100\n",
    );
    let admin = connect(sleepy.port, "litescale").await;
    let c = connect(sleepy.port, "postgres").await;
    c.batch_execute("CREATE TABLE t (id INT); INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    let mut cold = Vec::new();
    for _ in 0..10 {
        while !workers(&admin).await.iter().any(|w| w.2 == "asleep") {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Instant::now();
        c.query_one("SELECT count(*) FROM t", &[]).await.unwrap();
        cold.push(started.elapsed().as_secs_f64() * 1e3);
    }
    summary("cold start: query on a sleeping partition (ms)", "ms", cold);
    drop(sleepy);

    // Point select: remote replica against in process.
    let local = start(&binary, "");
    let in_process = point_selects(local.port, 20_000).await;
    drop(local);
    let remote = start(&binary, processes);
    wait_ready(&connect(remote.port, "litescale").await, 1).await;
    let through_worker = point_selects(remote.port, 20_000).await;
    drop(remote);
    let p50 = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        percentile(&v, 0.5)
    };
    let ratio = p50(&through_worker) / p50(&in_process);
    summary("point select, in process (us)", "us", in_process);
    summary(
        "point select, remote replica worker (us)",
        "us",
        through_worker,
    );
    println!("{:<44} {ratio:.2}x", "  remote / in-process p50");
}
