//! Where a partition's SQLite work runs in process: on the caller's own thread (a
//! client's lane), handing the lane's other connections to another thread from inside
//! SQLite when a statement runs long.

use tokio::runtime::RuntimeFlavor;

use crate::error::ShardError;

/// Runs SQLite work on this thread when it is a worker of a multi-thread runtime (a
/// client's lane): a hop to the blocking pool and back cost more than a point select and
/// was half of the time a transaction block held the writer, and `block_in_place` for each
/// statement still woke a second thread every time. Work that runs long lets this thread's
/// other tasks go on elsewhere from inside SQLite ([`hand_over_thread`]). Elsewhere
/// (single-threaded tests) the job goes to the blocking pool.
pub(super) async fn sqlite_work<R: Send + 'static>(
    job: impl FnOnce() -> Result<R, ShardError> + Send + 'static,
) -> Result<R, ShardError> {
    if tokio::runtime::Handle::current().runtime_flavor() == RuntimeFlavor::MultiThread {
        return job();
    }
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| ShardError::new("XX000", format!("worker task failed: {e}")))?
}

/// Called from inside SQLite when a statement on a runtime's thread runs long: hands the
/// thread's other tasks to another thread, and this one goes on with the statement.
/// `block_in_place` hands the runtime's core to a new thread, and takes it back when its
/// closure returns if that thread has not taken it yet: so the closure waits until a task
/// spawned now has run, which on a one-worker runtime (a lane) means the core has moved.
/// A SQLite write cannot be stopped and run again elsewhere: undoing it would undo its
/// whole transaction.
pub(super) fn hand_over_thread() {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    if runtime.runtime_flavor() != RuntimeFlavor::MultiThread {
        return;
    }
    tokio::task::block_in_place(|| {
        let (moved, wait) = std::sync::mpsc::channel();
        runtime.spawn(async move {
            let _ = moved.send(());
        });
        let _ = wait.recv_timeout(HAND_OVER_WAIT);
    });
}

/// How long a long statement waits for its thread's other tasks to move; past it, the
/// statement goes on where it is.
const HAND_OVER_WAIT: std::time::Duration = std::time::Duration::from_millis(100);
