//! Where client connections run: one Tokio runtime per core, each with a single worker
//! thread and its own epoll, connections handed to them in turn.
//!
//! On one runtime with a worker per core, a socket that becomes readable on one worker
//! wakes another to steal the task: perf showed a third of the proxy's time in those
//! wake-ups (pgbench select-only, 8 clients, 2 cores: 50k TPS on one two-worker runtime,
//! 66k on a one-worker runtime). A one-worker runtime never wakes a second thread for
//! its own connections; one per core still uses every core. They are multi-thread
//! runtimes of one worker rather than current-thread ones because a statement that
//! keeps SQLite busy hands its thread's other connections over (`block_in_place`),
//! which only a multi-thread runtime can do.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::runtime::{Builder, Handle, Runtime};

pub(crate) struct Lanes {
    runtimes: Vec<Runtime>,
    next: AtomicUsize,
}

impl Lanes {
    /// One lane per core this process may use.
    pub(crate) fn per_core() -> std::io::Result<Lanes> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let runtimes = (0..cores)
            .map(|i| {
                Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name(format!("litescale-lane-{i}"))
                    .enable_all()
                    .build()
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(Lanes {
            runtimes,
            next: AtomicUsize::new(0),
        })
    }

    /// The lane the next connection goes to.
    pub(crate) fn next(&self) -> &Handle {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.runtimes.len();
        self.runtimes[i].handle()
    }
}

impl Drop for Lanes {
    /// Dropping a runtime waits for its tasks, which an async caller must not do; by now
    /// every connection has ended.
    fn drop(&mut self) {
        for runtime in self.runtimes.drain(..) {
            runtime.shutdown_background();
        }
    }
}
