//! Cancelling a running statement from another task (a Postgres CancelRequest).

use std::sync::Mutex;

use rusqlite::InterruptHandle;

/// How to stop the statement running now.
enum Armed {
    /// A connection in this process.
    Local(InterruptHandle),
    /// A link to a worker process: sends it an interrupt for that link.
    Remote(Box<dyn Fn() + Send + Sync>),
}

/// Holds the way to interrupt the statement a session is running, and only while it
/// runs: a cancel can never reach a connection the session no longer uses.
#[derive(Default)]
pub struct Interrupter {
    running: Mutex<Option<Armed>>,
}

impl Interrupter {
    /// Interrupts the statement running now, if any. SQLite ends it with SQLITE_INTERRUPT.
    pub fn interrupt(&self) {
        match self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            Some(Armed::Local(handle)) => handle.interrupt(),
            Some(Armed::Remote(send)) => send(),
            None => {}
        }
    }

    pub(crate) fn arm(&self, handle: InterruptHandle) {
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) = Some(Armed::Local(handle));
    }

    pub(crate) fn arm_remote(&self, send: impl Fn() + Send + Sync + 'static) {
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Armed::Remote(Box::new(send)));
    }

    pub(crate) fn disarm(&self) {
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}
