//! Sockets: accept loop, lanes, a connection's message loop, the inbound message limit.
//! It must not know what messages mean: the protocol room's handlers answer them.
//!
//! Order: `lanes`, `inbound` <- `connection` <- `accept`.

pub(crate) mod accept;
mod connection;
mod inbound;
mod lanes;
