//! Sockets: the accept loop, the lanes connections run on, a connection's message loop
//! with its batched writes, and the limit on incoming messages.
//! It must not know what messages mean: the protocol room's handlers answer them.
//!
//! Order: `lanes`, `inbound` <- `connection` <- `accept`.

mod accept;
mod connection;
mod inbound;
mod lanes;

pub use accept::serve;
