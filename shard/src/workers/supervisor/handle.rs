//! One worker process as the supervisor sees it: its address, role and health, the idle
//! reader links kept to it (each to one core), and the pings that learn what it is now.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use tokio::sync::{Mutex as AsyncMutex, Notify};

use crate::messages::{Reply, Request, Response, Role};
use crate::workers::link::{CALL_TIMEOUT, Link};

/// One worker process, as the supervisor sees it.
pub struct WorkerHandle {
    pub id: u64,
    /// `host:port`.
    pub addr: String,
    /// The worker's process id (as it reports it: for a worker in a container, its pid
    /// there).
    pub(super) pid: AtomicU32,
    pub(super) role: Mutex<Role>,
    pub(super) healthy: AtomicBool,
    /// Stopped on purpose (scale to zero, REMOVE WORKER): its exit is no failure.
    pub(super) stopping: AtomicBool,
    /// A primary replaced by `PROMOTE`: fenced, and expected to exit.
    pub(super) deposed: AtomicBool,
    pub(super) outstanding: AtomicUsize,
    /// Reads sent to this worker.
    pub(super) reads: AtomicU64,
    /// Health checks missed in a row.
    pub(super) missed: AtomicU32,
    pub(super) idle_links: Mutex<Vec<Link>>,
    pub(super) stop: Notify,
    /// The link health checks ping on.
    pub(super) health: AsyncMutex<Option<Link>>,
    /// The worker's stdin: when the proxy dies this pipe closes and the worker exits.
    pub(super) _lifeline: Mutex<Option<tokio::process::ChildStdin>>,
}

impl WorkerHandle {
    pub fn pid(&self) -> u32 {
        self.pid.load(Ordering::Relaxed)
    }

    pub fn role(&self) -> Role {
        *self.role.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn set_role(&self, role: Role) {
        *self.role.lock().unwrap_or_else(|e| e.into_inner()) = role;
    }

    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// An idle link last used from the core this thread runs on, else a new one: the
    /// worker's thread for a link follows the core its requests come from, so a link
    /// kept to one core keeps that thread there (and off the other cores).
    pub(super) async fn take_link(&self) -> std::io::Result<Link> {
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

    pub(super) fn return_link(&self, link: Link) {
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
    pub(super) async fn ping(&self) -> std::io::Result<()> {
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

    pub(super) fn mark_unhealthy(&self) {
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

pub(super) async fn connect(addr: &str, first: &Request) -> std::io::Result<(Link, Reply)> {
    tokio::time::timeout(CALL_TIMEOUT, Link::connect(addr, first))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "worker did not answer"))?
}

/// The core the calling thread runs on (a client connection's lane is pinned to one).
fn current_core() -> Option<usize> {
    // SAFETY: sched_getcpu(3) reads the calling thread's CPU; no memory is involved.
    usize::try_from(unsafe { libc::sched_getcpu() }).ok()
}
