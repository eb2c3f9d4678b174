//! The Postgres types a statement's text determines: of `$n` parameters and result columns.
//! Knows the schema only through the caller's `Schema`; nothing of translation or routing.
//!
//! `schema` (the caller's answers, the tables a statement names) and `catalog`
//! (pg_catalog's column types), `functions` (scalar functions' result types), `json_arrays` (json and array results), `temporal` (date and time results) and `set_returning` (set-returning functions' columns) are leaves; `names` gives result columns Postgres' names (the translator names SQLite's columns with it); `inference` walks a statement with them (its `sources`: the columns of subqueries, CTEs, VALUES and table functions in FROM);
//! `statement` puts it on [`crate::PlannedStatement`].

mod catalog;
mod functions;
pub(crate) mod inference;
mod json_arrays;
pub(crate) mod names;
pub(crate) mod schema;
pub(crate) mod set_returning;
mod statement;
pub(crate) mod temporal;
