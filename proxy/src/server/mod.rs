//! The server every connection shares, and who may connect: authentication by the
//! `[[auth]]` rules, TLS, the connection slots. It must not know the wire protocol's
//! handlers, the accept loop or the admin console; it holds sessions only in registries.
//!
//! Order: `auth`, `tls`, `slots` <- `shared`.

pub(crate) mod auth;
pub(crate) mod shared;
pub(crate) mod slots;
mod tls;
