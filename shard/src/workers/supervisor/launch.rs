//! Starting worker processes: what a start takes (`Launch`), the `litescale worker`
//! command and its first line (the address), the watch on its exit, and the start of the
//! whole group on first use or after scale to zero.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use litescale_config::WorkersConfig;
use tokio::io::AsyncBufReadExt;
use tokio::sync::{Mutex as AsyncMutex, Notify};

use crate::error::ShardError;
use crate::messages::Role;
use crate::workers::supervisor::WorkerGroup;
use crate::workers::supervisor::handle::WorkerHandle;

/// What starting a worker takes.
#[derive(Debug, Clone)]
pub(crate) struct Launch {
    pub program: PathBuf,
    pub config_file: Option<PathBuf>,
    pub data_dir: PathBuf,
    pub database: String,
    pub partition: usize,
    pub workers: WorkersConfig,
    /// Workers started elsewhere (containers), by address; empty: the supervisor starts
    /// its own.
    pub external: Vec<String>,
}

static NEXT_WORKER: AtomicU64 = AtomicU64::new(1);

impl WorkerGroup {
    pub(super) fn add_handle(
        &self,
        addr: String,
        pid: u32,
        role: Role,
        healthy: bool,
    ) -> Arc<WorkerHandle> {
        let handle = Arc::new(WorkerHandle {
            id: NEXT_WORKER.fetch_add(1, Ordering::Relaxed),
            addr,
            pid: AtomicU32::new(pid),
            role: Mutex::new(role),
            healthy: AtomicBool::new(healthy),
            stopping: AtomicBool::new(false),
            deposed: AtomicBool::new(false),
            outstanding: AtomicUsize::new(0),
            reads: AtomicU64::new(0),
            missed: AtomicU32::new(0),
            idle_links: Mutex::new(Vec::new()),
            stop: Notify::new(),
            health: AsyncMutex::new(None),
            _lifeline: Mutex::new(None),
        });
        self.workers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arc::clone(&handle));
        handle
    }

    /// Starts the partition's workers if they are not running (first use, or a wake-up
    /// after scale to zero).
    pub async fn ensure_started(&self) -> Result<(), ShardError> {
        self.touch();
        if !self.asleep.load(Ordering::Acquire) {
            return Ok(());
        }
        let _starting = self.starting.lock().await;
        if !self.asleep.load(Ordering::Acquire) {
            return Ok(());
        }
        if self.closed.load(Ordering::Relaxed) {
            return Err(ShardError::new("57P01", "the partition was closed"));
        }
        let started = Instant::now();
        let primary = self.start_worker(Role::Primary).await?;
        self.primary.send_replace(Some(primary));
        self.asleep.store(false, Ordering::Release);
        self.wake.notify_one();
        let micros = started.elapsed().as_micros() as u64;
        tracing::info!(
            database = %self.launch.database, partition = self.launch.partition, micros,
            "partition's primary worker started"
        );
        for _ in 0..self.replicas.load(Ordering::Relaxed) {
            self.spawn_replacement(Role::Replica);
        }
        Ok(())
    }

    /// Starts a worker process and waits for its address. (Boxed: a worker's exit can
    /// start another, so the future's type would otherwise contain itself.)
    pub(super) fn start_worker(
        &self,
        role: Role,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<Arc<WorkerHandle>, ShardError>> + Send + '_>>
    {
        Box::pin(self.start_worker_now(role))
    }

    async fn start_worker_now(&self, role: Role) -> Result<Arc<WorkerHandle>, ShardError> {
        let launch = &self.launch;
        let mut command = tokio::process::Command::new(&launch.program);
        command
            .arg("worker")
            .arg("--data")
            .arg(&launch.data_dir)
            .args(["--database", &launch.database])
            .args(["--partition", &launch.partition.to_string()])
            .args(["--role", role.as_str()])
            .args(["--listen", "127.0.0.1:0", "--supervised"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if let Some(file) = &launch.config_file {
            command.arg("--config").arg(file);
        }
        with_process_cpus(&mut command);
        let failed = |e: &(dyn std::fmt::Display + Sync)| {
            ShardError::new(
                "58000",
                format!(
                    "cannot start a worker for partition {}: {e}",
                    launch.partition
                ),
            )
        };
        let mut child = command.spawn().map_err(|e| failed(&e))?;
        let pid = child.id().unwrap_or(0);
        let stdout = child.stdout.take().ok_or_else(|| failed(&"no stdout"))?;
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .map_err(|_| failed(&"it did not start within 10 s"))?
            .map_err(|e| failed(&e))?
            .ok_or_else(|| failed(&"it exited before listening"))?;
        let addr: SocketAddr = line
            .rsplit(' ')
            .next()
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| failed(&format!("unexpected first line {line:?}")))?;
        let handle = self.add_handle(addr.to_string(), pid, role, true);
        *handle._lifeline.lock().unwrap_or_else(|e| e.into_inner()) = child.stdin.take();
        tracing::info!(
            database = %launch.database, partition = launch.partition, worker = handle.id,
            pid, %addr, role = role.as_str(), "worker started"
        );
        let group = self.this.clone();
        let watched = Arc::clone(&handle);
        // Drains the worker's stdout so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        tokio::spawn(async move {
            let status = tokio::select! {
                status = child.wait() => status,
                () = watched.stop.notified() => {
                    let _ = child.start_kill();
                    child.wait().await
                }
            };
            if let Some(group) = group.upgrade() {
                group.exited(&watched, status.ok()).await;
            }
        });
        Ok(handle)
    }

    /// Starts a worker in the background (a replacement replica, or a primary).
    pub(super) fn spawn_replacement(&self, role: Role) {
        if self.is_external() {
            return;
        }
        let Some(group) = self.this.upgrade() else {
            return;
        };
        tokio::spawn(async move {
            if group.asleep.load(Ordering::Relaxed) || group.closed.load(Ordering::Relaxed) {
                return;
            }
            if let Err(e) = group.start_worker(role).await {
                tracing::error!(error = %e, "could not start a worker");
            }
        });
    }
}

/// Makes a worker start with the CPU set of this process rather than of the thread that
/// starts it: a child inherits its thread's, and a client connection's thread may be
/// pinned to one core (the proxy pins its lanes), which would leave the worker one core.
fn with_process_cpus(command: &mut tokio::process::Command) {
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: cpu_set_t is plain bits, valid all zero.
    let mut cpus: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // The process id names the main thread, which the proxy does not pin.
    let main_thread = std::process::id() as libc::pid_t;
    // SAFETY: sched_getaffinity writes at most `size` bytes into `cpus`.
    if unsafe { libc::sched_getaffinity(main_thread, size, &mut cpus) } != 0 {
        return;
    }
    // SAFETY: the hook runs in the child between fork and exec, where it only makes one
    // system call (async-signal-safe) on a copy of `cpus`.
    unsafe {
        command.pre_exec(move || {
            libc::sched_setaffinity(0, size, &cpus);
            Ok(())
        });
    }
}
