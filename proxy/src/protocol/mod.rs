//! The Postgres wire protocol (v3, on `pgwire`): client messages ↔ session calls.
//! It must not know sockets or lanes (network's) or how statements run (session's).
//!
//! Startup, simple and extended query, COPY, the admin console's queries.
//!
//! Order: `handlers` <- `results` <- `console` <- `simple`; `extended`, `copy` and
//! `startup` use `handlers` (and `results`).

mod console;
pub(crate) mod copy;
mod extended;
pub(crate) mod handlers;
mod results;
mod simple;
mod startup;
