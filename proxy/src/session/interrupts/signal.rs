//! pg_cancel_backend, pg_terminate_backend and the admin console's KILL: who sends a
//! signal, what a terminated client is told, and the server's sessions as a statement that
//! signals one of them reaches them.

use litescale_router::Signal;

use crate::error::SqlError;

/// Who sends a signal.
pub(crate) enum Sender<'a> {
    /// The admin console.
    Console,
    /// A session's `pg_cancel_backend` / `pg_terminate_backend`.
    User { name: &'a str, admin: bool },
}

/// What the terminated session's client is told, as Postgres tells it.
pub(crate) fn terminated_by_administrator() -> SqlError {
    SqlError::new(
        "57P01",
        "terminating connection due to administrator command",
    )
}

/// The server's sessions by backend pid, as a statement's pg_cancel_backend or
/// pg_terminate_backend reaches them. The registry (`session/backends.rs`) holds the
/// sessions, so a session holds the registry through this trait: the registry names the
/// session's type, which cannot name it back.
pub(crate) trait BackendSignals: Send + Sync {
    /// Signals the session `pid`. `Ok(false)`: no such session (Postgres answers false
    /// with a warning); 42501 when the sender may not signal it.
    fn signal(&self, pid: i32, signal: Signal, sender: Sender<'_>) -> Result<bool, SqlError>;
}
