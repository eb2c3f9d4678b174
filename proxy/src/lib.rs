//! The Postgres front door: connections, wire protocol (v3, on `pgwire`), sessions.
//! It must not parse SQL (the router's job) nor touch SQLite directly (the shard's).
//!
//! The proxy owns sessions, transaction blocks and wire encoding, and runs what the
//! router planned on the shard's SQLite workers.
//!
//! # Layout
//!
//! Rooms in dependency order, each using only those before it:
//!
//! 1. `error`: errors as the client sees them (SQLSTATE, message).
//! 2. `values/`: Postgres values to and from SQLite's: encoding, decoding, COPY formats,
//!    what a typed column may hold.
//! 3. `session/`: a client's session and the statements it runs: transaction blocks,
//!    routing to partitions, cross-partition commit, cancel and termination.
//! 4. `server/`: what every connection shares, and who may connect (auth, TLS, slots).
//! 5. `admin/`: the admin console and the /metrics endpoint.
//! 6. `protocol/`: pgwire's handlers: messages in, session calls, messages out.
//! 7. `network/`: the accept loop, lanes, a connection's socket and message loop.

mod admin;
mod error;
mod network;
mod protocol;
mod server;
mod session;
mod values;

/// The database name that opens the admin console instead of a tenant. It stands at the
/// crate root because rooms on four levels need it: the session refuses to create it,
/// the server's slots reserve places for it, protocol's startup opens the console on it.
pub(crate) const ADMIN_DATABASE: &str = "litescale";

pub use admin::telemetry::serve_metrics;
pub use network::accept::serve;
pub use server::auth::scram_verifier;
pub use server::shared::{Server, type_catalog};
pub use session::settings::SERVER_VERSION;
