//! Starting the litescale binary for a bench program, and connecting to it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use tokio_postgres::{Client, NoTls};

/// The binary, running over a temporary directory with a config file; killed on drop.
pub struct Server {
    pub child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `binary` on an ephemeral port with `config` and waits until it listens.
pub fn start(binary: &str, config: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("litescale.toml");
    std::fs::write(&file, config).unwrap();
    let mut child = Command::new(binary)
        .arg("--listen=127.0.0.1:0")
        .arg("--data")
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(&file)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start litescale");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().rsplit(':').next().unwrap().parse().unwrap();
    Server {
        child,
        port,
        _dir: dir,
    }
}

pub async fn connect(port: u16, database: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(
        &format!("host=127.0.0.1 port={port} user=postgres dbname={database}"),
        NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    client
}
