//! Memory per idle client connection (run by bench/connections.sh): starts the litescale
//! binary, reads its resident memory, opens N Postgres connections that stay idle after
//! one query, reads it again.
//!
//!   cargo run --release --example connections -- <litescale binary> [connections]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use tokio_postgres::NoTls;

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
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("litescale.toml");
    std::fs::write(&config, format!("[limits]\nmax_connections = {}\n", n + 10)).unwrap();
    let mut server = Command::new(&binary)
        .arg("--listen=127.0.0.1:0")
        .arg("--data")
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line.trim().rsplit(':').next().unwrap().parse().unwrap();
    let conninfo = format!("host=127.0.0.1 port={port} user=postgres dbname=postgres");

    // One connection first, so that what every server has once (the storage, the plan
    // of a first query) is not counted per connection.
    let (first, connection) = tokio_postgres::connect(&conninfo, NoTls).await.unwrap();
    tokio::spawn(connection);
    first.simple_query("SELECT 1").await.unwrap();
    let before = resident_kib(server.id());
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        let (client, connection) = tokio_postgres::connect(&conninfo, NoTls).await.unwrap();
        tokio::spawn(connection);
        client.simple_query("SELECT 1").await.unwrap();
        clients.push(client);
        if clients.len() % 1000 == 0 {
            eprintln!("{} connections", clients.len());
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let after = resident_kib(server.id());
    let per = (after.saturating_sub(before)) as f64 / n as f64;
    println!(
        "{n} idle connections: server resident memory {before} KiB -> {after} KiB, {per:.1} KiB per connection"
    );
    drop(clients);
    let _ = server.kill();
    let _ = server.wait();
}
