//! The Postgres wire protocol (v3, on the `pgwire` crate): the handlers that turn a
//! client's messages into session calls and a session's replies into messages — startup,
//! simple and extended query, COPY, the admin console's queries.
//! It must not know sockets or lanes (the network room's) or how statements run (the
//! session's).
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
