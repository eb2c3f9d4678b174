//! Memory per idle client connection (run by bench/connections.sh): starts the litescale
//! binary, reads its resident memory, opens N Postgres connections that stay idle after
//! one query, reads it again.
//!
//!   cargo run --release --example connections -- <litescale binary> [connections]

#[path = "server.rs"]
mod server;

fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let binary = args
        .next()
        .expect("usage: connections <litescale binary> [n]");
    let n: usize = args.next().map_or(10_000, |v| v.parse().unwrap());
    let server = server::start(
        &binary,
        &format!("[limits]\nmax_connections = {}\n", n + 10),
    );
    let port = server.port;

    // One connection first, so that what every server has once (the storage, the plan
    // of a first query) is not counted per connection.
    let first = server::connect(port, "postgres").await;
    first.simple_query("SELECT 1").await.unwrap();
    let before = resident_kib(server.child.id());
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        let client = server::connect(port, "postgres").await;
        client.simple_query("SELECT 1").await.unwrap();
        clients.push(client);
        if clients.len() % 1000 == 0 {
            eprintln!("{} connections", clients.len());
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let after = resident_kib(server.child.id());
    let per = (after.saturating_sub(before)) as f64 / n as f64;
    println!(
        "{n} idle connections: server resident memory {before} KiB -> {after} KiB, {per:.1} KiB per connection"
    );
    drop(clients);
}
