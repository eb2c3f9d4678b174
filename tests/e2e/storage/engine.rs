//! Three NATS JetStream nodes, one per host, clustered, fsyncing every write.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::hosts::{Hosts, Process};

pub struct Engine {
    dir: PathBuf,
    /// The hosts the nodes run on, node i on `hosts[i]`.
    pub hosts: Vec<usize>,
    pub nodes: Vec<Option<Process>>,
}

pub fn nats_server() -> PathBuf {
    let found = std::process::Command::new("bash")
        .args(["-c", "command -v nats-server"])
        .output()
        .expect("look for nats-server");
    let path = String::from_utf8_lossy(&found.stdout).trim().to_owned();
    assert!(
        !path.is_empty(),
        "nats-server is not installed (scripts/test installs it)"
    );
    PathBuf::from(path)
}

impl Engine {
    pub fn start(hosts: &Hosts, on: &[usize], dir: &Path) -> Engine {
        let routes: Vec<String> = on
            .iter()
            .map(|&h| format!("nats://{}:6222", hosts.ip(h)))
            .collect();
        for (i, &host) in on.iter().enumerate() {
            let ip = hosts.ip(host);
            let config = format!(
                "server_name: n{i}\nlisten: {ip}:4222\nhttp: {ip}:8222\n\
                 jetstream {{ store_dir: {store}, sync_interval: always }}\n\
                 cluster {{ name: litescale, listen: {ip}:6222, routes: [{routes}] }}\n",
                store = dir.join(format!("n{i}")).display(),
                routes = routes.join(", "),
            );
            std::fs::write(dir.join(format!("n{i}.conf")), config).unwrap();
        }
        let mut engine = Engine {
            dir: dir.to_owned(),
            hosts: on.to_vec(),
            nodes: on.iter().map(|_| None).collect(),
        };
        for i in 0..on.len() {
            engine.start_node(hosts, i);
        }
        engine
    }

    pub fn start_node(&mut self, hosts: &Hosts, i: usize) {
        let mut command = hosts.command(self.hosts[i], &nats_server());
        command.arg("-c").arg(self.dir.join(format!("n{i}.conf")));
        command.stderr(std::process::Stdio::null());
        self.nodes[i] = Some(Process::start(command, None));
    }

    /// The addresses litescale's `[storage] servers` names.
    pub fn servers(&self, hosts: &Hosts) -> Vec<String> {
        self.hosts
            .iter()
            .map(|&h| format!("{}:4222", hosts.ip(h)))
            .collect()
    }
}

/// The node (index into `ips`) leading `stream` now: once every live node's monitoring
/// endpoint names the same leader (a node just restarted may still name an old one).
/// Call on a thread on one of the hosts.
pub fn leader_of(ips: &[String], live: &[bool], stream: &str) -> Option<usize> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let claims: Vec<Option<String>> = ips
            .iter()
            .zip(live)
            .filter(|(_, live)| **live)
            .map(|(ip, _)| leader_named_by(ip, stream))
            .collect();
        if let Some(Some(first)) = claims.first()
            && claims.iter().all(|c| c.as_ref() == Some(first))
        {
            return first.strip_prefix('n').and_then(|n| n.parse().ok());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    None
}

fn leader_named_by(ip: &str, stream: &str) -> Option<String> {
    let detail = stream_detail(&format!("{ip}:8222"), stream)?;
    detail["cluster"]["leader"].as_str().map(str::to_owned)
}

/// The last sequence of `stream`'s log, as the node whose monitoring endpoint is
/// `monitor` (address:port) holds it.
pub fn last_sequence(monitor: &str, stream: &str) -> Option<u64> {
    stream_detail(monitor, stream)?["state"]["last_seq"].as_u64()
}

fn stream_detail(monitor: &str, stream: &str) -> Option<serde_json::Value> {
    let body = http_get(monitor, "/jsz?streams=true")?;
    let json: serde_json::Value = serde_json::from_str(&body).ok()?;
    for account in json["account_details"].as_array()? {
        for detail in account["stream_detail"].as_array().into_iter().flatten() {
            if detail["name"] == stream {
                return Some(detail.clone());
            }
        }
    }
    None
}

fn http_get(addr: &str, path: &str) -> Option<String> {
    let mut stream =
        std::net::TcpStream::connect_timeout(&addr.parse().ok()?, Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
}
