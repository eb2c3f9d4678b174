//! statement_timeout: a cancel that fires by itself when the statement has run too long.

use std::sync::Arc;

use crate::error::SqlError;
use crate::session::interrupts::cancel::CancelTarget;

/// A running statement_timeout: when it runs out it cancels the statement as a
/// CancelRequest would (the running SQLite statement, or a wait for a writer), never a
/// commit. Dropping it stops it.
#[derive(Debug)]
pub struct StatementTimer {
    task: tokio::task::AbortHandle,
    fired: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl StatementTimer {
    pub(crate) fn start(cancel: &Arc<CancelTarget>, limit: std::time::Duration) -> StatementTimer {
        let target = std::sync::Arc::clone(cancel);
        let fired = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&fired);
        let task = tokio::spawn(async move {
            tokio::time::sleep(limit).await;
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            target.cancel();
        });
        StatementTimer {
            task: task.abort_handle(),
            fired,
        }
    }

    /// A cancel this timer caused says so, as Postgres does.
    pub fn explain(&self, mut e: SqlError) -> SqlError {
        if e.sqlstate == "57014" && self.fired.load(std::sync::atomic::Ordering::SeqCst) {
            e.message = "canceling statement due to statement timeout".to_owned();
        }
        e
    }
}

impl Drop for StatementTimer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
