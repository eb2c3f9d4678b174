//! A primary's end and its replacement: a worker's exit noticed, a healthy replica
//! promoted (or a new primary started), and the writer's wait for whoever is primary now.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::error::ShardError;
use crate::messages::{Request, Response, Role};
use crate::storage::FENCED;
use crate::workers::link::Link;
use crate::workers::supervisor::WorkerGroup;
use crate::workers::supervisor::handle::{WorkerHandle, connect};

impl WorkerGroup {
    /// A worker process ended: forget it; if it was the primary, fail over.
    pub(super) async fn exited(
        &self,
        worker: &Arc<WorkerHandle>,
        status: Option<std::process::ExitStatus>,
    ) {
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
    pub(super) async fn fail_over(&self, noticed: Instant) {
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
                Err(e) if e.sqlstate == FENCED => promote(&replica, true).await,
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
}

/// How long a writer waits for a primary (a failover, a start) before giving up.
const FAILOVER_WAIT: Duration = Duration::from_secs(10);

pub(super) async fn promote(worker: &WorkerHandle, force: bool) -> Result<(), ShardError> {
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
