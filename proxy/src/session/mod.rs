//! A client's session: its state, settings, and statements run under Postgres' rules.
//! It must not know sockets, protocol messages or the accept loop, parse SQL or touch SQLite.
//!
//! Statements run on the partitions the router's plan names; the shard runs them.
//!
//! Order: `settings`, `interrupts`, `copy_in`, `column_cache`, `notifications`, `cursors`
//! (leaves),
//! `advisory_locks` (<- `interrupts`) <- `coordinator` <-
//! `state` <- `idle`, `backends`, `plans` <- `execute`.

pub(crate) mod advisory_locks;
pub(crate) mod backends;
pub(crate) mod column_cache;
pub(crate) mod coordinator;
pub(crate) mod copy_in;
pub(crate) mod cursors;
pub(crate) mod execute;
mod idle;
pub(crate) mod interrupts;
pub(crate) mod notifications;
pub(crate) mod plans;
pub(crate) mod settings;
pub(crate) mod state;
