//! Running planned statements under Postgres' transaction rules, partition by partition.
//! It must not know the wire protocol or the connection: it answers a [`reply::Reply`].
//!
//! Each partition has readers and a single writer; writes to several partitions are one
//! transaction. The protocol room sends the reply.
//!
//! Order: `reply` <- `block` <- `route` <- `copy`, `modifying_with` (data-modifying WITH:
//! its statements, then the query reading what they returned); `utility` (reply only);
//! `statement`, the entry, dispatches to them all.

mod block;
mod copy;
mod modifying_with;
pub(crate) mod reply;
mod route;
mod statement;
mod utility;
