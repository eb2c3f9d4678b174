//! Cancelling a running statement from another task (a Postgres CancelRequest), and the
//! registry of the links a process serves that another link's Interrupt names.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

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

/// The interrupters of the links a process serves (a worker's, or a primary's peer
/// links), by the id each link's Hello gave it: an Interrupt request, which arrives on a
/// link of its own, names the link whose statement to stop.
#[derive(Default)]
pub(crate) struct LinkInterrupters {
    last: AtomicU64,
    running: Mutex<HashMap<u64, Arc<Interrupter>>>,
}

/// A link's place in [`LinkInterrupters`], given up when dropped (the link ended).
pub(crate) struct RegisteredLink<'a> {
    pub id: u64,
    pub interrupter: Arc<Interrupter>,
    links: &'a LinkInterrupters,
}

impl LinkInterrupters {
    /// A new link's id (never 0) and its interrupter.
    pub(crate) fn register(&self) -> RegisteredLink<'_> {
        let id = self.last.fetch_add(1, Ordering::Relaxed) + 1;
        let interrupter = Arc::new(Interrupter::default());
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, Arc::clone(&interrupter));
        RegisteredLink {
            id,
            interrupter,
            links: self,
        }
    }

    /// Interrupts the statement link `id` runs now, if the link is still there.
    pub(crate) fn interrupt(&self, id: u64) {
        let target = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned();
        if let Some(interrupter) = target {
            interrupter.interrupt();
        }
    }
}

impl Drop for RegisteredLink<'_> {
    fn drop(&mut self) {
        self.links
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}
