//! The admin console's commands on a partition's workers: SHOW WORKERS, PROMOTE,
//! ADD REPLICA, REMOVE WORKER, and a reload's new replica count.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::error::ShardError;
use crate::messages::Role;
use crate::workers::supervisor::WorkerGroup;
use crate::workers::supervisor::failover::promote;

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

impl WorkerGroup {
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
}
