//! SQL → plan. The router parses what a client sends (PostgreSQL dialect, with
//! `sqlparser`), classifies each statement (read, write, DDL, transaction control, session
//! setting), rewrites it into the SQL the SQLite workers run, and infers the Postgres types
//! of parameters and result columns where the statement determines them.
//!
//! The router is pure: no I/O, no SQLite, no sockets. What it needs to know about the
//! schema is handed to it through [`Schema`]. That keeps every plan testable from text.
//!
//! # Layout
//!
//! Rooms in dependency order; each imports only from rooms above it.
//!
//! - `error` — [`RouterError`], with its SQLSTATE.
//! - `types` — Postgres types: OIDs, names, declared-type mapping (public: the proxy
//!   encodes with it).
//! - `plan/` — what planning hands the proxy: [`PlannedStatement`], [`StatementKind`] and
//!   the values they carry, and the [`SessionContext`] a plan is made for.
//! - `infer/` — the types a statement determines (parameters, result columns), given a
//!   [`Schema`].
//! - `parse/` — the query string cut into statements, Postgres' lexical rules, sqlparser
//!   and the nesting bound, COPY and VACUUM parsed by hand.
//! - `classify/` — what each parsed statement is, and what is refused before it runs.
//! - `translate/` — Postgres SQL → SQLite SQL, one pass per concern.
//! - `partitions/` — partitioned databases: where a statement goes, multi-row INSERTs
//!   split by partition, reads on every partition and how to merge them.
//! - `pipeline` — a query string through parse, classify and translate.

mod classify;
mod error;
mod infer;
mod parse;
mod partitions;
mod pipeline;
mod plan;
#[cfg(test)]
mod test_support;
mod translate;
pub mod types;

pub use error::RouterError;
pub use infer::schema::{NoSchema, Schema, TableDefinition};
pub use parse::depth::{MAX_EXPR_DEPTH, PLAN_STACK_BYTES};
pub use partitions::insert::{InsertPart, split_insert};
pub use partitions::route::{Route, route, writes_copies};
pub use partitions::scatter::{Aggregate, MergeStep, ScatterPlan, scatter};
pub use pipeline::{bind_prepared, insert_naming_columns, plan_reading_returned, plan_with_schema};
pub use plan::advisory_lock::{AdvisoryAction, AdvisoryLockCall, KeyArg};
pub use plan::copy::{CopyDirection, CopyFormat, CopySpec};
pub use plan::hint::Hint;
pub use plan::session::SessionContext;
pub use plan::signal::{BackendPid, Signal};
pub use plan::statement::{
    Isolation, PlannedStatement, SleepSeconds, StatementKind, TextArg, WriteKind,
};
pub use translate::columns::LENGTH_CHECK_PREFIX;
pub use translate::modifying_with::Returned;
pub use types::PgType;

/// The PostgreSQL version litescale answers as (server_version, version()): the one its
/// dialect is measured against (tests/conformance), and the one whose pg_dump the suite
/// runs (a pg_dump refuses a server newer than itself).
pub const SERVER_VERSION: &str = "15.18";

/// Parses a query string, which may hold several statements, into planned statements.
/// An empty string (or only `;`) gives an empty list.
pub fn plan(sql: &str) -> Result<Vec<PlannedStatement>, RouterError> {
    plan_in(sql, &SessionContext::default())
}

/// As [`plan`], for a session: `current_database()` and the like answer from `ctx`.
///
/// Runs on the caller's stack when it has room for what the text may need (see
/// [`PLAN_STACK_BYTES`]), else on a stack of its own.
pub fn plan_in(sql: &str, ctx: &SessionContext) -> Result<Vec<PlannedStatement>, RouterError> {
    parse::depth::protect_callbacks();
    let stack = parse::depth::stack_for(sql.len());
    stacker::maybe_grow(stack, stack, || pipeline::plan_pieces(sql, ctx))
}
