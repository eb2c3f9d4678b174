//! Keeping a partition's workers in check while the group lives: health pings (a worker
//! started elsewhere is declared dead by missed ones), scale to zero, and stopping them all.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use crate::messages::Role;
use crate::workers::supervisor::WorkerGroup;

impl WorkerGroup {
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

/// Pings every worker of the group while it lives; stops idle partitions' workers.
pub(super) async fn watch_health(group: Weak<WorkerGroup>) {
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
