//! The supervisor: one partition's worker processes started, watched, balanced and replaced.
//! It must not know what a partition's calls mean: it reaches workers and keeps them alive.
//!
//! It starts a primary and the configured replicas (`litescale worker`), balances reads over
//! healthy replicas, and when the primary dies promotes a replica (or starts a new primary)
//! with no one acting. With `idle_stop_ms` it stops an idle partition's workers and starts
//! them again on its next query.
//!
//! Order inside: `handle` <- `launch`, `failover`, `reads`; `failover` <- `admin`;
//! `writer` and `health` need no sibling. Each file but `handle` and `writer` is one kind
//! of `impl WorkerGroup`; the group itself is defined here, since its writer link
//! (writer.rs) and it name each other.

mod admin;
mod failover;
mod handle;
mod health;
mod launch;
mod reads;
mod writer;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use tokio::sync::{Mutex as AsyncMutex, Notify, watch};

use crate::messages::Role;
use handle::WorkerHandle;
use health::watch_health;

pub use admin::WorkerInfo;
pub(crate) use launch::Launch;
pub(crate) use writer::{RemoteWriter, lost, rolled_back_already, transaction_lost};

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

    pub fn is_asleep(&self) -> bool {
        self.asleep.load(Ordering::Relaxed)
    }
}
