//! CancelRequest: a client opens a second connection with the (pid, secret) it got in
//! BackendKeyData, and the statement running on its first connection is interrupted.

use std::sync::Arc;

use async_trait::async_trait;
use dashmap::DashMap;
use litescale_shard::Interrupter;
use pgwire::api::cancel::CancelHandler;
use pgwire::messages::cancel::CancelRequest;
use tokio::sync::Notify;

/// What a cancel reaches in one session: the SQLite statement it runs, or its wait for
/// the partition's writer.
#[derive(Default)]
pub struct CancelTarget {
    interrupter: Arc<Interrupter>,
    waiting: Notify,
}

impl CancelTarget {
    pub fn interrupter(&self) -> Arc<Interrupter> {
        Arc::clone(&self.interrupter)
    }

    /// Resolves when a cancel arrives while this is being awaited.
    pub fn canceled(&self) -> tokio::sync::futures::Notified<'_> {
        self.waiting.notified()
    }

    pub(crate) fn cancel(&self) {
        self.interrupter.interrupt();
        self.waiting.notify_waiters();
    }
}

/// Sessions by backend pid, with their secret key.
#[derive(Default)]
pub struct CancelRegistry {
    sessions: DashMap<i32, (Vec<u8>, Arc<CancelTarget>)>,
}

impl CancelRegistry {
    pub fn register(
        self: &Arc<Self>,
        pid: i32,
        secret: Vec<u8>,
        target: Arc<CancelTarget>,
    ) -> Registration {
        self.sessions.insert(pid, (secret, target));
        Registration {
            pid,
            registry: Arc::clone(self),
        }
    }

    /// Cancels every session's statement (at shutdown).
    pub(crate) fn cancel_all(&self) {
        for entry in self.sessions.iter() {
            entry.value().1.cancel();
        }
    }
}

/// Removes the session from the registry when the connection ends.
pub struct Registration {
    pid: i32,
    registry: Arc<CancelRegistry>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.sessions.remove(&self.pid);
    }
}

#[async_trait]
impl CancelHandler for CancelRegistry {
    async fn on_cancel_request(&self, request: CancelRequest) {
        let target = self.sessions.get(&request.pid).and_then(|entry| {
            let (secret, target) = entry.value();
            // A wrong secret is ignored silently, as Postgres does.
            (secret.as_slice() == request.secret_key.to_bytes().as_ref())
                .then(|| Arc::clone(target))
        });
        if let Some(target) = target {
            tracing::debug!(pid = request.pid, "cancel request");
            target.cancel();
        }
    }
}
