//! End-to-end tests: a real litescale server (in-process on an ephemeral port, or the
//! real binary as a child process) and real Postgres clients (tokio-postgres, psql).

mod harness;

mod auth;
mod cancel;
mod cli;
mod concurrency;
mod copy;
mod cross_partition;
mod dialect;
mod drivers;
mod durability;
mod errors;
mod extended;
mod hardening_auth;
mod hardening_departure;
mod hardening_fuzz;
mod hardening_hints;
mod hardening_internal;
mod hardening_params;
mod hardening_planning;
mod hardening_result_cap;
mod hardening_results;
mod hardening_sessions;
mod hardening_syntax;
mod hardening_temp;
mod hardening_types;
mod lanes;
mod limits;
mod malformed;
mod operations;
mod partitions;
mod pgbench;
mod portable;
mod psql;
mod rust_drivers;
mod security;
mod simple;
mod tls;
mod transactions;
mod types;
mod workers;
