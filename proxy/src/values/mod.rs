//! Values between Postgres and SQLite: how each Postgres type is sent (text and binary),
//! received as a parameter, written in COPY's text and CSV rows, and checked when stored.
//! It knows no session, connection or statement: only values, their types and SqlError.
//!
//! Order: `temporal` and `inet` (forms of single types) <- `encode` <- `check` <-
//! `decode`; `copy_format` stands alone.

pub(crate) mod check;
pub(crate) mod copy_format;
pub(crate) mod decode;
pub(crate) mod encode;
#[cfg(test)]
mod fuzz_tests;
mod inet;
mod temporal;
