//! The Postgres types a statement's text determines: of `$n` parameters and result columns.
//! Knows the schema only through the caller's `Schema`; nothing of translation or routing.
//!
//! `schema` (the caller's answers, the tables a statement names) and `catalog`
//! (pg_catalog's column types) and `functions` (scalar functions' result types) are leaves; `inference` walks a statement with both;
//! `statement` puts it on [`crate::PlannedStatement`].

mod catalog;
mod functions;
pub(crate) mod inference;
pub(crate) mod schema;
mod statement;
