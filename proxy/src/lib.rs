//! The Postgres front door: accepts client connections, speaks the wire protocol (v3, on
//! the `pgwire` crate), keeps each session's state, and runs what the router planned on
//! the shard's SQLite workers.
//!
//! The proxy owns sessions, transactions blocks and wire encoding. It must not parse SQL
//! itself (that is the router's job) nor touch SQLite directly (that is the shard's).

mod admin;
mod auth;
mod backends;
mod cancel;
mod connection;
mod coordinator;
mod copy_in;
mod error;
mod execute;
mod explain;
mod inbound;
mod lanes;
mod merge;
mod planner;
mod server;
mod session;
mod settings;
mod slots;
mod startup;
mod telemetry;
mod values;
mod wire;

pub use auth::scram_verifier;
pub use server::{Server, serve, type_catalog};
pub use settings::SERVER_VERSION;
pub use telemetry::serve_metrics;
