//! Postgres values ↔ SQLite values: send, receive, COPY rows, what a column may hold.
//! It must not know sessions, connections or statements: only values, types, SqlError.
//!
//! Each Postgres type is sent in text or binary, received as a parameter, written in
//! COPY's text and CSV rows, and checked when stored.
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
