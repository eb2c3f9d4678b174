//! The server's sessions by backend pid — the pid a client gets in BackendKeyData and from
//! `pg_backend_pid()`, and the one SHOW CLIENTS lists — and the signals that reach them:
//! `pg_cancel_backend`, `pg_terminate_backend` and the admin console's KILL.
//!
//! Who may signal whom follows Postgres, with admin users (`admin = true`, or everyone
//! when no `[[users]]` are configured) in the place of superusers: an admin signals any
//! session; another user only sessions of the same user name, and never an admin's
//! (42501).

use std::sync::{Arc, Weak};
use std::time::SystemTime;

use dashmap::DashMap;
use litescale_router::Signal;

use crate::error::SqlError;
use crate::session::interrupts::signal::{BackendSignals, Sender, terminated_by_administrator};
use crate::session::state::Session;

/// A connected session, as SHOW CLIENTS lists it.
pub(crate) struct Backend {
    pub user: String,
    pub database: String,
    pub address: String,
    pub since: SystemTime,
    /// The user is an admin (`admin = true`): only admins may signal the session.
    pub admin: bool,
    pub session: Weak<Session>,
}

/// Every session of the server, by backend pid.
#[derive(Default)]
pub(crate) struct Backends {
    pub(crate) by_pid: DashMap<i32, Backend>,
}

impl BackendSignals for Backends {
    fn signal(&self, pid: i32, signal: Signal, sender: Sender<'_>) -> Result<bool, SqlError> {
        let Some((user, admin, session)) = self
            .by_pid
            .get(&pid)
            .map(|b| (b.user.clone(), b.admin, b.session.clone()))
        else {
            return Ok(false);
        };
        if let Sender::User { name, admin: false } = sender {
            let (whose, what) = match signal {
                Signal::Cancel => ("query is being canceled", "cancel superuser query"),
                Signal::Terminate => ("process is being terminated", "terminate superuser process"),
            };
            if admin {
                return Err(SqlError::new(
                    "42501",
                    format!("must be a superuser (an admin user) to {what}"),
                ));
            }
            if user != name {
                return Err(SqlError::new(
                    "42501",
                    format!("must be the user whose {whose} or an admin user"),
                ));
            }
        }
        let Some(session) = session.upgrade() else {
            return Ok(false);
        };
        match signal {
            Signal::Cancel => session.cancel.cancel(),
            Signal::Terminate => session.terminate(terminated_by_administrator()),
        }
        tracing::info!(pid, signal = signal.function(), "session signalled");
        Ok(true)
    }
}

/// How often running statements are checked for a client that has left.
const DEPARTURE_CHECK: std::time::Duration = std::time::Duration::from_millis(500);

/// Ends the sessions whose client left while a statement ran (closed or reset its
/// connection), so that the statement stops and its writer is released rather than running
/// on for nobody. Postgres does this with `client_connection_check_interval`; litescale
/// always does, every [`DEPARTURE_CHECK`], and only for sessions running a statement.
pub(crate) async fn end_statements_of_departed_clients(backends: Arc<Backends>) {
    let mut tick = tokio::time::interval(DEPARTURE_CHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // A running statement holds its session's state.
        let running: Vec<(i32, Arc<Session>)> = backends
            .by_pid
            .iter()
            .filter_map(|b| Some((*b.key(), b.session.upgrade()?)))
            .filter(|(_, s)| s.state.try_lock().is_err())
            .collect();
        for (pid, session) in running {
            if session.control.as_ref().is_some_and(|c| c.client_gone()) {
                tracing::info!(pid, "client left during a statement: ending it");
                session.terminate(SqlError::new(
                    "08006",
                    "terminating connection because the client left during a statement",
                ));
            }
        }
    }
}

/// Removes the session from the registry when its connection ends.
pub(crate) struct BackendGuard {
    pub pid: i32,
    pub backends: Arc<Backends>,
}

impl Drop for BackendGuard {
    fn drop(&mut self) {
        if let Some((pid, c)) = self.backends.by_pid.remove(&self.pid) {
            let seconds = SystemTime::now()
                .duration_since(c.since)
                .map_or(0, |d| d.as_secs());
            tracing::info!(pid, user = %c.user, database = %c.database, peer = %c.address, seconds, "connection ended");
        }
    }
}
