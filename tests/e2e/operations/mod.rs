//! Running litescale: the command line, the metrics endpoint, users and authentication,
//! TLS, and a tenant's isolation from the host and from other databases.

mod auth;
mod cli;
mod metrics;
mod security;
mod tls;
