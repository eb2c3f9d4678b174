//! A client's session: its state, its settings, and the statements it runs under
//! Postgres' transaction rules, on the partitions the router's plan names.
//! It must not know sockets, the wire protocol's messages or the server's accept loop;
//! nor parse SQL (the router's) or touch SQLite (the shard's).
//!
//! Order: `settings`, `interrupts`, `copy_in` (leaves) <- `coordinator` <- `state` <-
//! `idle`, `backends`, `plans` <- `execute`.

pub(crate) mod backends;
pub(crate) mod coordinator;
pub(crate) mod copy_in;
pub(crate) mod execute;
mod idle;
pub(crate) mod interrupts;
pub(crate) mod plans;
pub(crate) mod settings;
pub(crate) mod state;
