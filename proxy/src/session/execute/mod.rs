//! Running planned statements: Postgres' transaction rules over each partition's readers
//! and single writer, and writes to several partitions as one transaction.
//! It must not know the wire protocol or the connection: what a statement answers is a
//! [`reply::Reply`], which the protocol room sends.
//!
//! Order: `reply` <- `block` <- `route` <- `copy`; `utility` (reply only); `statement`,
//! the entry, dispatches to them all.

mod block;
mod copy;
pub(crate) mod reply;
mod route;
mod statement;
mod utility;
