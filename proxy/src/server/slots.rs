//! Connection slots. A connection counts against `max_connections` only once it has
//! authenticated, so sockets that send nothing, half a startup packet or only an
//! SSLRequest, or stop in the middle of a password exchange, cannot keep clients out.
//! Until then it holds a startup place: at most `max_unauthenticated_connections` of them,
//! each for at most `authentication_timeout_ms`; a newcomer past the bound closes the
//! connection that has waited longest, which is the likeliest to be stuck, so a client
//! that authenticates promptly always gets through. Of `max_connections`,
//! `superuser_reserved_connections` are kept for admin users and the admin console.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use litescale_config::Config;

use crate::error::SqlError;
use crate::session::interrupts::control::ConnectionControl;

/// Connections that have not authenticated yet, oldest first.
#[derive(Default)]
pub(crate) struct Startups {
    waiting: Mutex<VecDeque<(SocketAddr, Arc<ConnectionControl>)>>,
}

impl Startups {
    /// A new connection from `peer` starts up; past `bound`, the oldest waiting is ended.
    pub(crate) fn enter(&self, peer: SocketAddr, control: &Arc<ConnectionControl>, bound: usize) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        while waiting.len() >= bound {
            let Some((oldest, control)) = waiting.pop_front() else {
                break;
            };
            tracing::info!(peer = %oldest, "closing a connection that has not authenticated, to make room");
            metrics::counter!("litescale_startup_evictions_total").increment(1);
            control.terminate(SqlError::new(
                "53300",
                format!(
                    "too many connections are authenticating (limits.max_unauthenticated_connections is {bound}); this one waited longest"
                ),
            ));
        }
        waiting.push_back((peer, Arc::clone(control)));
    }

    /// The connection from `peer` has authenticated, or ended.
    pub(crate) fn leave(&self, peer: SocketAddr) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = waiting.iter().position(|(p, _)| *p == peer) {
            waiting.remove(at);
        }
    }
}

/// An authenticated connection's slot, counted while it lives.
pub(crate) struct ConnectionSlot(Arc<AtomicUsize>);

impl ConnectionSlot {
    /// Takes a slot for `user` on `database`, or says why there is none (53300, as
    /// Postgres). Admin users and the admin console may take the reserved slots.
    pub(crate) fn take(
        connections: &Arc<AtomicUsize>,
        config: &Config,
        user: &str,
        database: &str,
    ) -> Result<ConnectionSlot, SqlError> {
        let limits = &config.limits;
        let max = limits.max_connections;
        let reserved_for_this =
            database == crate::ADMIN_DATABASE || config.user(user).is_some_and(|u| u.admin);
        let limit = if reserved_for_this {
            max
        } else {
            max.saturating_sub(limits.superuser_reserved_connections)
        };
        let count = connections;
        count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .map_err(|n| {
                if n < max {
                    SqlError::new(
                        "53300",
                        format!(
                            "remaining connection slots are reserved for admin users (limits.superuser_reserved_connections is {})",
                            limits.superuser_reserved_connections
                        ),
                    )
                } else {
                    SqlError::new(
                        "53300",
                        format!(
                            "sorry, too many clients already (limits.max_connections is {max})"
                        ),
                    )
                }
            })?;
        metrics::gauge!("litescale_client_connections").increment(1.0);
        Ok(ConnectionSlot(Arc::clone(count)))
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
        metrics::gauge!("litescale_client_connections").decrement(1.0);
    }
}
