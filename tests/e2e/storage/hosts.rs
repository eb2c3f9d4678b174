//! Hosts for one test: network namespaces on a private bridge, processes started inside
//! them, and a thread whose sockets live in one of them. Everything goes when the
//! `Hosts` value does, also when the test fails.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/storage/hosts.sh")
}

/// `count` hosts, `ip(i)` each (1-based).
pub struct Hosts {
    name: String,
    subnet: String,
}

impl Hosts {
    pub fn up(count: usize) -> Hosts {
        let pid = std::process::id();
        let name = format!("ls{}", pid % 100_000);
        let subnet = format!("10.231.{}", 20 + pid % 200);
        let hosts = Hosts { name, subnet };
        hosts.run(&["down", &hosts.name]);
        hosts.run(&["up", &hosts.name, &hosts.subnet, &count.to_string()]);
        hosts
    }

    fn run(&self, args: &[&str]) {
        let status = Command::new("bash")
            .arg(script())
            .args(args)
            .status()
            .expect("run hosts.sh");
        assert!(status.success(), "hosts.sh {args:?} failed");
    }

    pub fn ip(&self, host: usize) -> String {
        format!("{}.{}", self.subnet, 10 + host)
    }

    /// The hosts' `/24`, as `a.b.c`.
    pub fn subnet(&self) -> &str {
        &self.subnet
    }

    pub fn namespace(&self, host: usize) -> String {
        format!("{}-h{host}", self.name)
    }

    /// Takes a host's link to the bridge down or up (a cut cable).
    pub fn link(&self, host: usize, up: bool) {
        let state = if up { "up" } else { "down" };
        self.run(&["link", &self.name, &host.to_string(), state]);
    }

    /// `program args...` started on `host`.
    pub fn command(&self, host: usize, program: &Path) -> Command {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.namespace(host)])
            .arg(program);
        command
    }

    /// Runs `work` on a thread whose sockets are `host`'s, as are those of the threads
    /// it starts (a thread is created in its creator's network namespace).
    pub fn on_host<T: Send>(&self, host: usize, work: impl FnOnce() -> T + Send) -> T {
        let path = format!("/var/run/netns/{}", self.namespace(host));
        std::thread::scope(|scope| {
            scope
                .spawn(move || {
                    let ns = std::fs::File::open(&path).expect("open the host's namespace");
                    use std::os::fd::AsRawFd;
                    // SAFETY: setns on this thread only, with a namespace file it holds open.
                    let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
                    assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
                    work()
                })
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e))
        })
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .args(["down", &self.name])
            .status();
    }
}

/// A process on a host; SIGKILLed when dropped.
pub struct Process {
    pub child: Child,
}

impl Process {
    /// Starts `command` and, with `ready`, waits for a line of its stdout containing it.
    pub fn start(mut command: Command, ready: Option<&str>) -> Process {
        let mut child = command.stdout(Stdio::piped()).spawn().expect("spawn");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        if let Some(ready) = ready {
            loop {
                match lines.next() {
                    Some(Ok(line)) if line.contains(ready) => break,
                    Some(Ok(_)) => {}
                    _ => panic!("the process ended before printing {ready:?}"),
                }
            }
        }
        // Keep reading, so that the process never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
        Process { child }
    }

    pub fn signal(&self, signal: &str) {
        crate::harness::send_signal(&self.child, signal);
    }

    /// SIGKILL, as a crash or a lost host.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
