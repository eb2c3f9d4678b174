//! The server every connection shares, and who may connect (auth, TLS, slots).
//! It must not know protocol handlers, the accept loop or the admin console.
//!
//! Sessions appear here only in registries.
//!
//! Order: `auth`, `tls`, `slots` <- `shared`.

pub(crate) mod auth;
pub(crate) mod shared;
pub(crate) mod slots;
mod tls;
