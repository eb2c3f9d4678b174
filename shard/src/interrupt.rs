//! Cancelling a running statement from another task (a Postgres CancelRequest).

use std::sync::Mutex;

use rusqlite::InterruptHandle;

/// Holds the interrupt handle of the connection a session's statement is running on, and
/// only while it runs: a cancel can never reach a connection the session no longer uses.
#[derive(Default)]
pub struct Interrupter {
    running: Mutex<Option<InterruptHandle>>,
}

impl Interrupter {
    /// Interrupts the statement running now, if any. SQLite ends it with SQLITE_INTERRUPT.
    pub fn interrupt(&self) {
        if let Some(handle) = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            handle.interrupt();
        }
    }

    pub(crate) fn arm(&self, handle: InterruptHandle) {
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
    }

    pub(crate) fn disarm(&self) {
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}
