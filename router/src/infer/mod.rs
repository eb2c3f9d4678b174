//! Types from the statement text: of `$n` parameters (as Postgres infers them from the
//! columns they meet) and of result columns. Knows the schema only through [`Schema`].
//!
//! `schema` (the caller's answers, the tables a statement names) and `catalog`
//! (pg_catalog's column types) are leaves; `inference` walks a statement with both;
//! `statement` puts it on [`crate::PlannedStatement`].

mod catalog;
pub(crate) mod inference;
pub(crate) mod schema;
mod statement;
