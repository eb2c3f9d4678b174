//! The idle-in-transaction timeout: a block left open while the session waits for its
//! client is rolled back and the connection ended once the session's or the writer's limit
//! runs out.

use std::sync::Arc;

use crate::error::SqlError;
use crate::session::state::{Block, Session, SessionState};

impl Session {
    /// Called when the session has answered a message. A transaction block left open
    /// starts `idle_in_transaction_session_timeout` (see [`Session::idle_limit`]): if the
    /// client sends nothing before it runs out, the block is rolled back (its partition
    /// writers released) and the connection ends with FATAL 25P03, as in Postgres.
    ///
    /// One watcher task per session re-arms itself from `idle_since`, so a busy block
    /// costs a clock read per message, not a timer each.
    pub(crate) fn watch_idle(self: &Arc<Self>, state: &mut SessionState) {
        let Some(limit) = self.idle_limit(state) else {
            return;
        };
        if self.control.is_none() {
            return;
        }
        let now = tokio::time::Instant::now();
        state.idle_since = now.into_std();
        let deadline = now + limit;
        match &state.idle_watch {
            // It wakes no later than this deadline, and then waits for the rest.
            Some((wake, _)) if *wake <= deadline => return,
            Some((_, watcher)) => watcher.abort(),
            None => {}
        }
        let session = Arc::downgrade(self);
        let watcher = tokio::spawn(async move {
            let mut wake = deadline;
            loop {
                tokio::time::sleep_until(wake).await;
                let Some(session) = session.upgrade() else {
                    return;
                };
                let mut state = session.state.lock().await;
                let Some(limit) = session.idle_limit(&state) else {
                    state.idle_watch = None;
                    return;
                };
                let deadline = tokio::time::Instant::from_std(state.idle_since) + limit;
                if deadline <= tokio::time::Instant::now() {
                    state.idle_watch = None;
                    // Dropping the block's transactions rolls them back.
                    state.block = Block::Idle;
                    session.terminate(SqlError::new(
                        "25P03",
                        "terminating connection due to idle-in-transaction timeout",
                    ));
                    return;
                }
                if let Some((next, _)) = &mut state.idle_watch {
                    *next = deadline;
                }
                wake = deadline;
            }
        });
        state.idle_watch = Some((deadline, watcher.abort_handle()));
    }

    /// How long the session's open block may wait for its client: the session's
    /// `idle_in_transaction_session_timeout`, and for a block that holds a partition's
    /// writer (and so stops every other writer of it) at most `[limits]
    /// idle_in_transaction_writer_timeout_ms`. `None` outside an explicit block.
    fn idle_limit(&self, state: &SessionState) -> Option<std::time::Duration> {
        let Block::Open(block) = &state.block else {
            return None;
        };
        if block.implicit {
            return None;
        }
        let own = state
            .settings
            .duration("idle_in_transaction_session_timeout");
        let writer = self.writer_idle_timeout.filter(|_| !block.txns.is_empty());
        own.into_iter().chain(writer).min()
    }
}
