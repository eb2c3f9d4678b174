//! End-to-end tests: a real litescale server (in-process on an ephemeral port, or the
//! real binary as a child process) and real Postgres clients (tokio-postgres, psql).
//!
//! # Layout
//! - `harness`: starting servers and clients, shared by every room below.
//! - `protocol`: the wire protocol itself (simple, extended, COPY, cancel, errors, types).
//! - `sql`: what statements and transaction blocks answer.
//! - `conformance`: the corpus of issue 18 against PostgreSQL 15's recorded answers.
//! - `clients`: real client programs and the driver matrix.
//! - `frameworks`: the frameworks matrix (tests/frameworks/<name>/ programs).
//! - `cluster`: partitions, cross-partition commits, worker processes, crashes.
//! - `operations`: the command line, metrics, authentication, TLS, tenant isolation.
//! - `hardening`: hostile input and what one client may make the server hold.
//! - `storage`: replicated storage across hosts (network namespaces), under faults.

mod harness;

mod clients;
mod cluster;
mod conformance;
mod frameworks;
mod hardening;
mod operations;
mod protocol;
mod sql;
mod storage;
