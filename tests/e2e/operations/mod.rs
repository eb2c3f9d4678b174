//! Running litescale: the command line, the metrics endpoint, users and authentication,
//! TLS, GRANT and REVOKE enforced, and a tenant's isolation from the host and from other databases.

mod auth;
mod cli;
mod metrics;
mod privileges;
mod security;
mod tls;
