//! Starting servers for tests: in-process (fast, most tests) or as the real `litescale`
//! binary (when the test kills or drives the process from outside).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use litescale_config::Config;
use tokio::sync::oneshot;
use tokio_postgres::{Client, NoTls};

/// A server running inside the test process, on an ephemeral port, over a temporary
/// storage directory. Dropping it shuts the server down.
pub struct TestServer {
    pub addr: SocketAddr,
    _data: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(Config::default()).await
    }

    /// Starts a server with `config` (its address and data directory are replaced).
    pub async fn start_with(config: Config) -> TestServer {
        TestServer::start_in(config, tempfile::tempdir().expect("temp dir")).await
    }

    /// As `start_with`, over a storage directory the test prepared.
    pub async fn start_in(config: Config, data: tempfile::TempDir) -> TestServer {
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: data.path().to_owned(),
            ..config
        };
        let server = litescale_proxy::Server::open(config).expect("open storage");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(litescale_proxy::serve(server, listener, async move {
            let _ = stopped.await;
        }));
        TestServer {
            addr,
            _data: data,
            stop: Some(stop),
        }
    }

    pub fn data_dir(&self) -> &Path {
        self._data.path()
    }

    pub fn conninfo(&self) -> String {
        conninfo(self.addr)
    }

    pub async fn client(&self) -> Client {
        connect(self.addr).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub fn conninfo(addr: SocketAddr) -> String {
    format!(
        "host={} port={} user=postgres dbname=postgres",
        addr.ip(),
        addr.port()
    )
}

/// A client of `database`; the error when the server refuses it.
pub async fn connect_to_database(
    addr: SocketAddr,
    database: &str,
) -> Result<Client, tokio_postgres::Error> {
    let conninfo = format!(
        "host={} port={} user=postgres dbname={database}",
        addr.ip(),
        addr.port()
    );
    let (client, connection) = tokio_postgres::connect(&conninfo, NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

pub async fn connect(addr: SocketAddr) -> Client {
    let (client, connection) = tokio_postgres::connect(&conninfo(addr), NoTls)
        .await
        .expect("connect to litescale");
    tokio::spawn(connection);
    client
}

/// The real `litescale` binary, started as a child process.
pub struct ServerProcess {
    pub child: Child,
    pub addr: SocketAddr,
    /// Its stderr lines, when started with [`ServerProcess::start_watching_stderr`].
    stderr: Option<std::sync::mpsc::Receiver<String>>,
}

impl ServerProcess {
    /// Starts the binary on an ephemeral port over `data` and waits until it listens.
    pub fn start(data: &Path) -> ServerProcess {
        ServerProcess::start_with(&[
            "--listen".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--data".as_ref(),
            data.as_os_str(),
        ])
    }

    /// Starts the binary with these arguments and waits until it listens.
    pub fn start_with(args: &[&std::ffi::OsStr]) -> ServerProcess {
        ServerProcess::spawn(args, &[], false)
    }

    /// Starts the binary over `data` with its metrics endpoint on an ephemeral port (see
    /// [`ServerProcess::metrics_addr`]).
    pub fn start_with_metrics(data: &Path) -> ServerProcess {
        ServerProcess::start_watching_stderr(
            &[
                "--listen".as_ref(),
                "127.0.0.1:0".as_ref(),
                "--data".as_ref(),
                data.as_os_str(),
                "--metrics".as_ref(),
                "127.0.0.1:0".as_ref(),
            ],
            &[],
        )
    }

    /// As `start_with`, with extra environment, keeping stderr for `wait_for_stderr`.
    pub fn start_watching_stderr(args: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> ServerProcess {
        ServerProcess::spawn(args, env, true)
    }

    fn spawn(args: &[&std::ffi::OsStr], env: &[(&str, &str)], watch: bool) -> ServerProcess {
        let mut child = Command::new(binary())
            .args(args)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(if watch {
                Stdio::piped()
            } else {
                Stdio::inherit()
            })
            .spawn()
            .expect("spawn litescale");
        let stderr = child.stderr.take().map(|err| {
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    eprintln!("{line}");
                    let _ = tx.send(line);
                }
            });
            rx
        });
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read litescale stdout");
        let addr = line
            .trim()
            .strip_prefix("litescale listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from litescale: {line:?}"))
            .parse()
            .expect("address");
        ServerProcess {
            child,
            addr,
            stderr,
        }
    }

    /// Waits (up to 60 s) for a stderr line containing `needle`, and returns it.
    pub fn wait_for_stderr(&self, needle: &str) -> String {
        let lines = self.stderr.as_ref().expect("started watching stderr");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(e) => panic!("no stderr line with {needle:?}: {e}"),
            }
        }
    }

    /// The `host:port` of the metrics endpoint, from the line the binary logs when it
    /// starts serving it (started with `--metrics` and watching stderr).
    pub fn metrics_addr(&self) -> String {
        let line = self.wait_for_stderr("metrics on http://");
        line.split("http://")
            .nth(1)
            .and_then(|rest| rest.strip_suffix("/metrics"))
            .unwrap_or_else(|| panic!("unexpected metrics line {line:?}"))
            .to_owned()
    }

    /// Sends it `signal` (`STOP`, `CONT`, ...).
    pub fn signal(&self, signal: &str) {
        send_signal(&self.child, signal);
    }

    /// SIGKILL: no shutdown code runs, as in a crash.
    pub fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `child` the signal named `signal` (`STOP`, `CONT`, ...).
pub fn send_signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success(), "kill -{signal}");
}

/// Arguments that start the binary on an ephemeral port over `data` with `config`.
pub fn config_args<'a>(data: &'a Path, config: &'a Path) -> [&'a std::ffi::OsStr; 6] {
    [
        "--listen".as_ref(),
        "127.0.0.1:0".as_ref(),
        "--data".as_ref(),
        data.as_os_str(),
        "--config".as_ref(),
        config.as_os_str(),
    ]
}

/// `PRAGMA integrity_check` of a partition file opened with plain SQLite: its typed
/// columns' CHECKs call litescale's `pg_typecheck`, which plain SQLite lacks, so the check
/// constraints are left out (the file's structure is what is checked).
pub fn integrity_check(db: &rusqlite::Connection) -> String {
    db.pragma_update(None, "ignore_check_constraints", "ON")
        .unwrap();
    db.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_litescale"))
}

/// The rows of a simple-protocol answer, as text (None for NULL).
pub fn simple_rows(messages: &[tokio_postgres::SimpleQueryMessage]) -> Vec<Vec<Option<String>>> {
    messages
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect())
            }
            _ => None,
        })
        .collect()
}

/// Sends a CancelRequest for `client`'s running statement after `ms` milliseconds.
pub fn cancel_after(client: &Client, ms: u64) -> tokio::task::JoinHandle<()> {
    let token = client.cancel_token();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        token.cancel_query(NoTls).await.expect("send CancelRequest");
    })
}

/// `SELECT count(*) FROM t`: most tests use one table named t.
pub async fn count_t(c: &Client) -> i64 {
    c.query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0)
}

/// The SQLSTATE of a failed tokio-postgres call.
pub fn sqlstate(e: &tokio_postgres::Error) -> String {
    e.code()
        .map(|c| c.code().to_owned())
        .unwrap_or_else(|| format!("no SQLSTATE: {e}"))
}

/// A Postgres frontend speaking raw protocol messages, for what drivers do not expose:
/// text-format parameters, Execute row limits, Flush, ReadyForQuery status bytes.
pub struct RawClient {
    stream: tokio::net::TcpStream,
}

/// A backend message: its type byte and body.
#[derive(Debug)]
pub struct Message {
    pub tag: u8,
    pub body: Vec<u8>,
}

impl Message {
    /// The SQLSTATE of an ErrorResponse.
    pub fn sqlstate(&self) -> Option<String> {
        assert_eq!(self.tag, b'E', "not an ErrorResponse: {self:?}");
        self.body.split(|b| *b == 0).find_map(|field| {
            field
                .strip_prefix(b"C")
                .map(|c| String::from_utf8_lossy(c).into_owned())
        })
    }

    /// The values of a DataRow (None for NULL).
    pub fn fields(&self) -> Vec<Option<Vec<u8>>> {
        assert_eq!(self.tag, b'D');
        let n = i16::from_be_bytes([self.body[0], self.body[1]]) as usize;
        let mut at = 2;
        (0..n)
            .map(|_| {
                let len = i32::from_be_bytes(self.body[at..at + 4].try_into().unwrap());
                at += 4;
                if len < 0 {
                    None
                } else {
                    let v = self.body[at..at + len as usize].to_vec();
                    at += len as usize;
                    Some(v)
                }
            })
            .collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(self.body.strip_suffix(b"\0").unwrap_or(&self.body)).into_owned()
    }
}

fn cstr(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(s.as_bytes());
    out.push(0);
}

impl RawClient {
    pub async fn connect(addr: SocketAddr) -> RawClient {
        use tokio::io::AsyncWriteExt;
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut body = 196608i32.to_be_bytes().to_vec();
        for s in ["user", "postgres", "database", "postgres", ""] {
            cstr(&mut body, s);
        }
        let mut packet = ((body.len() + 4) as i32).to_be_bytes().to_vec();
        packet.extend(body);
        stream.write_all(&packet).await.unwrap();
        let mut client = RawClient { stream };
        client.until_ready().await;
        client
    }

    /// The socket, for tests that write bytes no well-formed message would hold.
    pub fn into_stream(self) -> tokio::net::TcpStream {
        self.stream
    }

    pub async fn send(&mut self, tag: u8, body: &[u8]) {
        use tokio::io::AsyncWriteExt;
        let mut packet = vec![tag];
        packet.extend(((body.len() + 4) as i32).to_be_bytes());
        packet.extend_from_slice(body);
        self.stream.write_all(&packet).await.unwrap();
    }

    pub async fn recv(&mut self) -> Message {
        use tokio::io::AsyncReadExt;
        let read = async {
            let tag = self.stream.read_u8().await.unwrap();
            let len = self.stream.read_i32().await.unwrap() as usize;
            let mut body = vec![0; len - 4];
            self.stream.read_exact(&mut body).await.unwrap();
            Message { tag, body }
        };
        tokio::time::timeout(std::time::Duration::from_secs(20), read)
            .await
            .expect("server answered within 20 s")
    }

    /// Reads up to and including ReadyForQuery; returns the messages before it and the
    /// transaction status byte (I, T or E).
    pub async fn until_ready(&mut self) -> (Vec<Message>, u8) {
        let mut seen = Vec::new();
        loop {
            let m = self.recv().await;
            if m.tag == b'Z' {
                return (seen, m.body[0]);
            }
            seen.push(m);
        }
    }

    pub async fn query(&mut self, sql: &str) -> (Vec<Message>, u8) {
        let mut body = Vec::new();
        cstr(&mut body, sql);
        self.send(b'Q', &body).await;
        self.until_ready().await
    }

    pub async fn parse(&mut self, name: &str, sql: &str, oids: &[u32]) {
        let mut body = Vec::new();
        cstr(&mut body, name);
        cstr(&mut body, sql);
        body.extend((oids.len() as i16).to_be_bytes());
        for oid in oids {
            body.extend(oid.to_be_bytes());
        }
        self.send(b'P', &body).await;
    }

    /// Bind with one format code for all parameters and one for all results
    /// (0 text, 1 binary).
    pub async fn bind(
        &mut self,
        portal: &str,
        statement: &str,
        params: &[Option<&[u8]>],
        param_format: i16,
        result_format: i16,
    ) {
        let mut body = Vec::new();
        cstr(&mut body, portal);
        cstr(&mut body, statement);
        body.extend(1i16.to_be_bytes());
        body.extend(param_format.to_be_bytes());
        body.extend((params.len() as i16).to_be_bytes());
        for p in params {
            match p {
                Some(v) => {
                    body.extend((v.len() as i32).to_be_bytes());
                    body.extend_from_slice(v);
                }
                None => body.extend((-1i32).to_be_bytes()),
            }
        }
        body.extend(1i16.to_be_bytes());
        body.extend(result_format.to_be_bytes());
        self.send(b'B', &body).await;
    }

    pub async fn describe(&mut self, kind: u8, name: &str) {
        let mut body = vec![kind];
        cstr(&mut body, name);
        self.send(b'D', &body).await;
    }

    pub async fn execute(&mut self, portal: &str, max_rows: i32) {
        let mut body = Vec::new();
        cstr(&mut body, portal);
        body.extend(max_rows.to_be_bytes());
        self.send(b'E', &body).await;
    }

    pub async fn close(&mut self, kind: u8, name: &str) {
        let mut body = vec![kind];
        cstr(&mut body, name);
        self.send(b'C', &body).await;
    }

    pub async fn sync(&mut self) -> (Vec<Message>, u8) {
        self.send(b'S', &[]).await;
        self.until_ready().await
    }

    pub async fn flush(&mut self) {
        self.send(b'H', &[]).await;
    }
}

/// The tags of a list of messages, as a string ("1T" → ParseComplete, RowDescription).
pub fn tags(messages: &[Message]) -> String {
    messages.iter().map(|m| m.tag as char).collect()
}

/// The Prometheus endpoint's text.
pub(crate) async fn scrape(addr: &str) -> String {
    http_get(addr, "/metrics").await
}

pub(crate) async fn http_get(addr: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).await.unwrap();
    response
}

/// The value of the sample whose line starts with `series` (name and labels).
pub(crate) fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in:\n{metrics}"))
}
