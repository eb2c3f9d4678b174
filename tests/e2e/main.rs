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
mod hardening_fuzz;
mod hardening_temp;
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
