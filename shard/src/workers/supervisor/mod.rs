//! Worker processes of one partition: started, watched, replaced. The supervisor starts
//! a primary and the configured replicas (`litescale worker`), balances reads over healthy
//! replicas, and when the primary dies promotes a replica (or starts a new primary) with
//! no one acting. With `idle_stop_ms` it stops an idle partition's workers and starts
//! them again on its next query.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use litescale_config::{Balance, WorkersConfig};
use tokio::io::AsyncBufReadExt;
use tokio::sync::{Mutex as AsyncMutex, Notify, watch};

use crate::error::ShardError;
use crate::interrupt::Interrupter;
use crate::partition::StreamForward;
use crate::protocol::{Reply, Request, Response, Role};
use crate::remote::{CALL_TIMEOUT, Link, RemoteWriter};
use crate::usage::Usage;
use crate::value::Value;

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

/// One worker process, as the supervisor sees it.
pub struct WorkerHandle {
    pub id: u64,
    /// `host:port`.
    pub addr: String,
    /// The worker's process id (as it reports it: for a worker in a container, its pid
    /// there).
    pid: AtomicU32,
    role: Mutex<Role>,
    healthy: AtomicBool,
    /// Stopped on purpose (scale to zero, REMOVE WORKER): its exit is no failure.
    stopping: AtomicBool,
    /// A primary replaced by `PROMOTE`: fenced, and expected to exit.
    deposed: AtomicBool,
    outstanding: AtomicUsize,
    /// Reads sent to this worker.
    reads: AtomicU64,
    /// Health checks missed in a row.
    missed: AtomicU32,
    idle_links: Mutex<Vec<Link>>,
    stop: Notify,
    /// The link health checks ping on.
    health: AsyncMutex<Option<Link>>,
    /// The worker's stdin: when the proxy dies this pipe closes and the worker exits.
    _lifeline: Mutex<Option<tokio::process::ChildStdin>>,
}

impl WorkerHandle {
    pub fn pid(&self) -> u32 {
        self.pid.load(Ordering::Relaxed)
    }

    pub fn role(&self) -> Role {
        *self.role.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_role(&self, role: Role) {
        *self.role.lock().unwrap_or_else(|e| e.into_inner()) = role;
    }

    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// An idle link last used from the core this thread runs on, else a new one: the
    /// worker's thread for a link follows the core its requests come from, so a link
    /// kept to one core keeps that thread there (and off the other cores).
    async fn take_link(&self) -> std::io::Result<Link> {
        let core = current_core();
        let idle = {
            let mut idle = self.idle_links.lock().unwrap_or_else(|e| e.into_inner());
            idle.iter()
                .rposition(|l| l.core == core)
                .map(|i| idle.swap_remove(i))
        };
        match idle {
            Some(link) => Ok(link),
            None => {
                let mut link = connect(&self.addr, &Request::Hello { writer: false })
                    .await?
                    .0;
                link.core = core;
                Ok(link)
            }
        }
    }

    fn return_link(&self, link: Link) {
        if link.usable() {
            let mut idle = self.idle_links.lock().unwrap_or_else(|e| e.into_inner());
            if idle.len() >= IDLE_LINKS {
                // Make room by the link idle longest.
                idle.remove(0);
            }
            idle.push(link);
        }
    }

    /// Pings the worker; its answer says what it is now (role, pid), which is how the
    /// roles of workers started elsewhere are learnt.
    async fn ping(&self) -> std::io::Result<()> {
        let mut health = self.health.lock().await;
        let result = match health.as_mut() {
            Some(link) if link.usable() => link.call(&Request::Ping).await,
            _ => Link::connect(&self.addr, &Request::Ping)
                .await
                .map(|(link, reply)| {
                    *health = Some(link);
                    reply
                }),
        };
        match result {
            Ok(reply) => {
                if let Response::Hello { pid, role, .. } = reply.body {
                    self.pid.store(pid, Ordering::Relaxed);
                    self.set_role(role);
                }
                Ok(())
            }
            Err(e) => {
                *health = None;
                Err(e)
            }
        }
    }

    fn mark_unhealthy(&self) {
        if self.healthy.swap(false, Ordering::Relaxed) {
            tracing::warn!(
                worker = self.id,
                pid = self.pid(),
                "worker left the read rotation"
            );
        }
        self.idle_links
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// Idle reader links kept per worker.
const IDLE_LINKS: usize = 16;

async fn connect(addr: &str, first: &Request) -> std::io::Result<(Link, Reply)> {
    tokio::time::timeout(CALL_TIMEOUT, Link::connect(addr, first))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "worker did not answer"))?
}

/// A worker as `SHOW WORKERS` lists it.
#[derive(Debug, Clone)]
pub struct WorkerInfo {
    pub id: u64,
    pub database: String,
    pub partition: usize,
    pub role: Role,
    pub addr: String,
    pub state: &'static str,
    pub pid: u32,
    pub reads: u64,
}

/// The workers of one partition.
pub struct WorkerGroup {
    launch: Launch,
    this: Weak<WorkerGroup>,
    workers: Mutex<Vec<Arc<WorkerHandle>>>,
    primary: watch::Sender<Option<Arc<WorkerHandle>>>,
    writer: Arc<AsyncMutex<RemoteWriter>>,
    /// Held while workers start, so that two callers do not start two primaries.
    starting: AsyncMutex<()>,
    asleep: AtomicBool,
    closed: AtomicBool,
    next_read: AtomicUsize,
    last_used: Mutex<Instant>,
    /// Replicas to keep (config, changed by a reload).
    replicas: AtomicUsize,
    /// Wakes the health watcher of a partition that was asleep.
    wake: Arc<Notify>,
}

static NEXT_WORKER: AtomicU64 = AtomicU64::new(1);

impl WorkerGroup {
    pub(crate) fn new(launch: Launch) -> Arc<WorkerGroup> {
        let group = Arc::new_cyclic(|this: &Weak<WorkerGroup>| WorkerGroup {
            replicas: AtomicUsize::new(launch.workers.replicas),
            launch,
            this: this.clone(),
            workers: Mutex::new(Vec::new()),
            primary: watch::Sender::new(None),
            writer: Arc::new(AsyncMutex::new(RemoteWriter::new(this.clone()))),
            starting: AsyncMutex::new(()),
            asleep: AtomicBool::new(true),
            closed: AtomicBool::new(false),
            next_read: AtomicUsize::new(0),
            last_used: Mutex::new(Instant::now()),
            wake: Arc::new(Notify::new()),
        });
        for addr in &group.launch.external {
            group.add_handle(addr.clone(), 0, Role::Replica, false);
        }
        if !group.launch.external.is_empty() {
            group.asleep.store(false, Ordering::Release);
        }
        tokio::spawn(watch_health(Arc::downgrade(&group)));
        group
    }

    fn is_external(&self) -> bool {
        !self.launch.external.is_empty()
    }

    fn add_handle(&self, addr: String, pid: u32, role: Role, healthy: bool) -> Arc<WorkerHandle> {
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

    pub fn partition(&self) -> usize {
        self.launch.partition
    }

    pub(crate) fn writer(&self) -> Arc<AsyncMutex<RemoteWriter>> {
        Arc::clone(&self.writer)
    }

    fn touch(&self) {
        *self.last_used.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    fn snapshot(&self) -> Vec<Arc<WorkerHandle>> {
        self.workers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The workers now, for `SHOW WORKERS`.
    pub fn describe(&self) -> Vec<WorkerInfo> {
        self.snapshot()
            .iter()
            .map(|w| WorkerInfo {
                id: w.id,
                database: self.launch.database.clone(),
                partition: self.launch.partition,
                role: w.role(),
                addr: w.addr.clone(),
                state: if w.deposed.load(Ordering::Relaxed) {
                    "deposed"
                } else if w.stopping.load(Ordering::Relaxed) {
                    "stopping"
                } else if w.is_healthy() {
                    "ready"
                } else {
                    "unhealthy"
                },
                pid: w.pid(),
                reads: w.reads.load(Ordering::Relaxed),
            })
            .collect()
    }

    pub fn is_asleep(&self) -> bool {
        self.asleep.load(Ordering::Relaxed)
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
    fn start_worker(
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
    fn spawn_replacement(&self, role: Role) {
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

    /// A worker process ended: forget it; if it was the primary, fail over.
    async fn exited(&self, worker: &Arc<WorkerHandle>, status: Option<std::process::ExitStatus>) {
        let noticed = Instant::now();
        self.workers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|w| w.id != worker.id);
        worker.mark_unhealthy();
        let was_primary = self
            .primary
            .borrow()
            .as_ref()
            .is_some_and(|p| p.id == worker.id);
        let planned = worker.stopping.load(Ordering::Relaxed)
            || worker.deposed.load(Ordering::Relaxed)
            || self.closed.load(Ordering::Relaxed)
            || self.asleep.load(Ordering::Relaxed);
        if planned {
            return;
        }
        tracing::warn!(
            database = %self.launch.database, partition = self.launch.partition,
            worker = worker.id, pid = worker.pid(), ?status, primary = was_primary,
            "worker exited"
        );
        if !was_primary {
            self.spawn_replacement(Role::Replica);
            return;
        }
        self.fail_over(noticed).await;
    }

    /// The primary is gone: a replica becomes the primary (or a new one starts).
    async fn fail_over(&self, noticed: Instant) {
        self.primary.send_replace(None);
        let _starting = self.starting.lock().await;
        match self.promote_any().await {
            Ok(new) => {
                let micros = noticed.elapsed().as_micros() as u64;
                metrics::counter!("litescale_failovers_total",
                    "database" => self.launch.database.clone(),
                    "partition" => self.launch.partition.to_string())
                .increment(1);
                tracing::warn!(
                    database = %self.launch.database, partition = self.launch.partition,
                    worker = new.id, pid = new.pid(), micros, "failover: new primary"
                );
                self.primary.send_replace(Some(new));
                self.spawn_replacement(Role::Replica);
            }
            Err(e) => tracing::error!(error = %e, "failover failed; the partition cannot write"),
        }
    }

    /// Promotes the first healthy replica; with none, starts a new primary.
    async fn promote_any(&self) -> Result<Arc<WorkerHandle>, ShardError> {
        let replicas: Vec<_> = self
            .snapshot()
            .into_iter()
            .filter(|w| w.role() == Role::Replica && w.is_healthy())
            .collect();
        for replica in replicas {
            let promoted = match promote(&replica, false).await {
                // The dead primary's lock is free; one still held belongs to a deposed
                // primary that is paused: the new epoch fences it.
                Err(e) if e.sqlstate == crate::fence::FENCED => promote(&replica, true).await,
                other => other,
            };
            match promoted {
                Ok(()) => return Ok(replica),
                Err(e) => tracing::warn!(worker = replica.id, error = %e, "promotion failed"),
            }
        }
        if self.is_external() {
            return Err(ShardError::new(
                "57P03",
                format!(
                    "partition {} has no healthy replica to promote",
                    self.launch.partition
                ),
            ));
        }
        self.start_worker(Role::Primary).await
    }

    /// `PROMOTE <worker>`: makes that replica the primary now, fencing the old one (which
    /// is then stopped). Works when the old primary is alive but unresponsive.
    pub async fn promote_worker(&self, id: u64) -> Result<(), ShardError> {
        let target = self
            .snapshot()
            .into_iter()
            .find(|w| w.id == id)
            .ok_or_else(|| ShardError::new("42704", format!("no worker {id}")))?;
        if target.role() == Role::Primary {
            return Ok(());
        }
        let _starting = self.starting.lock().await;
        promote(&target, true).await?;
        let old = self.primary.send_replace(Some(Arc::clone(&target)));
        if let Some(old) = old {
            // Fenced by the new epoch; it exits by itself at its next health check (it
            // may be paused now). Its exit is no failure.
            old.deposed.store(true, Ordering::Relaxed);
            old.healthy.store(false, Ordering::Relaxed);
        }
        self.spawn_replacement(Role::Replica);
        Ok(())
    }

    /// `ADD REPLICA`: one more replica, serving reads as soon as it has started.
    pub async fn add_replica(&self) -> Result<WorkerInfo, ShardError> {
        self.refuse_if_external("ADD REPLICA")?;
        self.ensure_started().await?;
        let started = Instant::now();
        let worker = self.start_worker(Role::Replica).await?;
        tracing::info!(
            worker = worker.id,
            micros = started.elapsed().as_micros() as u64,
            "replica added"
        );
        Ok(self
            .describe()
            .into_iter()
            .find(|w| w.id == worker.id)
            .expect("just added"))
    }

    /// `REMOVE WORKER`: stops a replica (reads in flight on it finish or are retried
    /// elsewhere). The primary cannot be removed: promote another worker first.
    pub fn remove_worker(&self, id: u64) -> Result<bool, ShardError> {
        self.refuse_if_external("REMOVE WORKER")?;
        let Some(worker) = self.snapshot().into_iter().find(|w| w.id == id) else {
            return Ok(false);
        };
        if worker.role() == Role::Primary {
            return Err(ShardError::new(
                "55000",
                format!("worker {id} is the primary; PROMOTE another worker first"),
            ));
        }
        worker.stopping.store(true, Ordering::Relaxed);
        worker.healthy.store(false, Ordering::Relaxed);
        worker.stop.notify_one();
        Ok(true)
    }

    fn refuse_if_external(&self, what: &str) -> Result<(), ShardError> {
        if self.is_external() {
            return Err(ShardError::new(
                "0A000",
                format!(
                    "{what}: this partition's workers are started outside litescale (workers.external); start or stop them there"
                ),
            ));
        }
        Ok(())
    }

    /// Keeps `count` replicas (a config reload changed `workers.replicas`).
    pub fn set_replicas(&self, count: usize) {
        self.replicas.store(count, Ordering::Relaxed);
        let replicas: Vec<_> = self
            .snapshot()
            .into_iter()
            .filter(|w| w.role() == Role::Replica && !w.stopping.load(Ordering::Relaxed))
            .collect();
        for extra in replicas.iter().skip(count) {
            let _ = self.remove_worker(extra.id);
        }
        if !self.is_asleep() {
            for _ in replicas.len()..count {
                self.spawn_replacement(Role::Replica);
            }
        }
    }

    /// The current primary's worker id, if there is one.
    pub(crate) fn primary_id(&self) -> Option<u64> {
        self.primary.borrow().as_ref().map(|p| p.id)
    }

    /// A link to the primary for the writer, once there is one, and the primary's id.
    pub(crate) async fn connect_primary(&self) -> Result<(Link, u64), ShardError> {
        self.ensure_started().await?;
        let mut primary = self.primary.subscribe();
        let deadline = Instant::now() + FAILOVER_WAIT;
        loop {
            let current = primary.borrow_and_update().clone();
            if let Some(worker) = current {
                match connect(&worker.addr, &Request::Hello { writer: true }).await {
                    Ok((link, _)) if link.role == Role::Primary => return Ok((link, worker.id)),
                    Ok(_) | Err(_) => {}
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ShardError::new(
                    "57P03",
                    format!("partition {} has no primary worker", self.launch.partition),
                ));
            }
            // Woken by a new primary, or retried shortly (its process may be starting).
            let _ =
                tokio::time::timeout(left.min(Duration::from_millis(50)), primary.changed()).await;
        }
    }

    /// The writer's link failed: the health check (or the exit watcher) confirms.
    pub(crate) fn suspect_primary(&self) {
        if let Some(p) = self.primary.borrow().as_ref() {
            p.mark_unhealthy();
        }
    }

    /// The worker the next read goes to: a healthy replica by the configured balance; the
    /// primary when configured to take reads or when no replica is healthy.
    async fn pick_reader(&self) -> Result<Arc<WorkerHandle>, ShardError> {
        self.ensure_started().await?;
        let workers = self.snapshot();
        let primary_reads = self.launch.workers.primary_reads;
        let candidates: Vec<_> = workers
            .iter()
            .filter(|w| w.is_healthy() && (primary_reads || w.role() == Role::Replica))
            .collect();
        let chosen = match self.launch.workers.balance {
            _ if candidates.is_empty() => None,
            Balance::RoundRobin => {
                let n = self.next_read.fetch_add(1, Ordering::Relaxed);
                Some(candidates[n % candidates.len()])
            }
            Balance::LeastOutstanding => candidates
                .iter()
                .min_by_key(|w| w.outstanding.load(Ordering::Relaxed))
                .copied(),
        };
        if let Some(w) = chosen {
            return Ok(Arc::clone(w));
        }
        let primary = self.primary.borrow().clone();
        primary.ok_or_else(|| {
            ShardError::new(
                "57P03",
                format!("partition {} has no healthy worker", self.launch.partition),
            )
        })
    }

    /// A read on a replica. One a worker's death interrupts is retried on another worker
    /// (reads have no effects, so a retry is always safe).
    pub(crate) async fn read(
        &self,
        request: Request,
        interrupter: &Interrupter,
    ) -> Result<Reply, ShardError> {
        let mut last = None;
        for _ in 0..READ_ATTEMPTS {
            let worker = self.pick_reader().await?;
            let mut link = match worker.take_link().await {
                Ok(link) => link,
                Err(e) => {
                    worker.mark_unhealthy();
                    last = Some(e);
                    continue;
                }
            };
            worker.outstanding.fetch_add(1, Ordering::Relaxed);
            worker.reads.fetch_add(1, Ordering::Relaxed);
            link.arm(interrupter);
            let result = link.call(&request).await;
            interrupter.disarm();
            worker.outstanding.fetch_sub(1, Ordering::Relaxed);
            match result {
                Ok(reply) => {
                    worker.return_link(link);
                    return Ok(reply);
                }
                Err(e) => {
                    worker.mark_unhealthy();
                    last = Some(e);
                }
            }
        }
        Err(ShardError::new(
            "57P03",
            format!(
                "no worker of partition {} could serve the read: {}",
                self.launch.partition,
                last.map(|e| e.to_string()).unwrap_or_default()
            ),
        ))
    }

    /// A streamed read: the rows flow from the worker through `forward` in a task of
    /// their own. One a worker's death interrupts before any row came is retried on
    /// another worker, as a read is; after a row, the stream ends with the error.
    pub(crate) async fn stream(
        self: &Arc<Self>,
        sql: String,
        params: Vec<Value>,
        interrupter: Arc<Interrupter>,
        mut forward: StreamForward,
        usage: Arc<Usage>,
    ) -> Result<(), ShardError> {
        let (mut worker, mut link) = self.reader_link().await?;
        let group = Arc::clone(self);
        tokio::spawn(async move {
            let request = Request::Stream { sql, params };
            let (mut rows, mut busy) = (0, 0);
            let mut columns_sent = false;
            let mut attempts = 1;
            loop {
                link.arm(&interrupter);
                let mut result = link.send(&request).await;
                while result.is_ok() {
                    match link.receive().await {
                        Ok(reply) => {
                            busy += reply.busy_nanos;
                            match &reply.body {
                                Response::Rows(r) => rows += r.len() as u64,
                                // A retry's columns: the consumer has them.
                                Response::Columns(_) if columns_sent => continue,
                                Response::Columns(_) => columns_sent = true,
                                _ => {}
                            }
                            if !forward.send(reply.body).await {
                                break;
                            }
                        }
                        Err(e) => result = Err(e),
                    }
                }
                interrupter.disarm();
                let Err(e) = result else {
                    worker.return_link(link);
                    break;
                };
                worker.mark_unhealthy();
                if rows == 0
                    && attempts < READ_ATTEMPTS
                    && let Ok(next) = group.reader_link().await
                {
                    attempts += 1;
                    (worker, link) = next;
                    continue;
                }
                let lost =
                    ShardError::new("57P01", format!("the worker serving the query failed: {e}"));
                forward.send(Response::Error(lost)).await;
                break;
            }
            usage.add(busy, rows, 0);
        });
        Ok(())
    }

    /// A link to a worker that takes reads, from another worker when one cannot be
    /// reached.
    async fn reader_link(&self) -> Result<(Arc<WorkerHandle>, Link), ShardError> {
        let mut last = None;
        for _ in 0..READ_ATTEMPTS {
            let worker = self.pick_reader().await?;
            match worker.take_link().await {
                Ok(link) => {
                    worker.reads.fetch_add(1, Ordering::Relaxed);
                    return Ok((worker, link));
                }
                Err(e) => {
                    worker.mark_unhealthy();
                    last = Some(e);
                }
            }
        }
        Err(ShardError::new(
            "57P03",
            format!(
                "cannot reach a worker: {}",
                last.map(|e| e.to_string()).unwrap_or_default()
            ),
        ))
    }

    /// Stops every worker (the database is dropped or the server shuts down).
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.wake.notify_one();
        self.stop_all();
    }

    fn stop_all(&self) {
        self.primary.send_replace(None);
        for w in self.snapshot() {
            w.stopping.store(true, Ordering::Relaxed);
            w.stop.notify_one();
        }
    }

    /// Scale to zero: stops the workers of a partition idle for `idle_stop_ms`, unless a
    /// transaction holds its writer.
    fn sleep_if_idle(&self) {
        let idle_stop = self.launch.workers.idle_stop_ms;
        // Workers started elsewhere are not the supervisor's to stop (or start again).
        if idle_stop == 0 || self.is_asleep() || self.is_external() {
            return;
        }
        let idle = self
            .last_used
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .elapsed();
        if idle < Duration::from_millis(idle_stop) {
            return;
        }
        let Ok(mut writer) = self.writer.try_lock() else {
            return;
        };
        if writer.in_transaction() {
            return;
        }
        writer.forget_link();
        let Ok(_starting) = self.starting.try_lock() else {
            return;
        };
        self.asleep.store(true, Ordering::Release);
        tracing::info!(
            database = %self.launch.database, partition = self.launch.partition,
            idle_ms = idle.as_millis() as u64, "partition idle: workers stopped"
        );
        self.stop_all();
    }

    async fn check_health(&self) {
        for worker in self.snapshot() {
            if worker.stopping.load(Ordering::Relaxed) {
                continue;
            }
            // A deposed primary is pinged so that it notices and exits, never rejoins.
            let timeout = Duration::from_millis(self.launch.workers.health_check_ms.max(20) * 2);
            let ok = tokio::time::timeout(timeout, worker.ping())
                .await
                .is_ok_and(|r| r.is_ok());
            if worker.deposed.load(Ordering::Relaxed) {
                continue;
            }
            if ok {
                worker.missed.store(0, Ordering::Relaxed);
                if !worker.healthy.swap(true, Ordering::Relaxed) {
                    tracing::info!(worker = worker.id, "worker is healthy");
                }
                // A worker started elsewhere says it is the primary: writes go to it.
                if worker.role() == Role::Primary && self.primary_id().is_none() {
                    self.primary.send_replace(Some(Arc::clone(&worker)));
                }
                continue;
            }
            worker.mark_unhealthy();
            let missed = worker.missed.fetch_add(1, Ordering::Relaxed) + 1;
            // A process the supervisor started is watched by its exit; one started
            // elsewhere is declared dead by missed checks.
            if self.is_external() && missed == MISSED_CHECKS && self.primary_id() == Some(worker.id)
            {
                tracing::warn!(worker = worker.id, addr = %worker.addr, "the primary stopped answering");
                worker.set_role(Role::Replica);
                self.fail_over(Instant::now()).await;
            }
        }
    }
}

/// Health checks a worker started elsewhere may miss before it counts as dead.
const MISSED_CHECKS: u32 = 3;

impl Drop for WorkerGroup {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// How long a writer waits for a primary (a failover, a start) before giving up.
const FAILOVER_WAIT: Duration = Duration::from_secs(10);

/// Tries per read before it fails.
const READ_ATTEMPTS: usize = 3;

async fn promote(worker: &WorkerHandle, force: bool) -> Result<(), ShardError> {
    let (_, reply) = connect(&worker.addr, &Request::Promote { force })
        .await
        .map_err(
            |e| match e.get_ref().and_then(|e| e.downcast_ref::<ShardError>()) {
                Some(refused) => refused.clone(),
                None => ShardError::new(
                    "57P03",
                    format!("worker {} cannot be promoted: {e}", worker.id),
                ),
            },
        )?;
    match reply.body {
        Response::Hello {
            role: Role::Primary,
            ..
        } => {
            worker.set_role(Role::Primary);
            Ok(())
        }
        other => Err(other.unexpected()),
    }
}

/// Pings every worker of the group while it lives; stops idle partitions' workers.
async fn watch_health(group: Weak<WorkerGroup>) {
    let interval = match group.upgrade() {
        Some(g) => Duration::from_millis(g.launch.workers.health_check_ms),
        None => return,
    };
    loop {
        tokio::time::sleep(interval).await;
        let Some(group) = group.upgrade() else {
            return;
        };
        if group.closed.load(Ordering::Relaxed) {
            return;
        }
        if group.is_asleep() {
            // No timer runs for a partition at zero: the next query wakes this.
            let wake = Arc::clone(&group.wake);
            drop(group);
            wake.notified().await;
            continue;
        }
        group.check_health().await;
        group.sleep_if_idle();
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

/// The core the calling thread runs on (a client connection's lane is pinned to one).
fn current_core() -> Option<usize> {
    // SAFETY: sched_getcpu(3) reads the calling thread's CPU; no memory is involved.
    usize::try_from(unsafe { libc::sched_getcpu() }).ok()
}
