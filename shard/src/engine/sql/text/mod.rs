//! Postgres' text functions SQLite lacks or answers differently: strings, regular
//! expressions, numbers written by a format (to_char), hashes and encodings, bytea values. Knows no catalog, json or arrays beyond rendering one.

pub(crate) mod bytea;
mod bytes;
mod number_format;
pub(crate) mod regex;
mod strings;

use rusqlite::Connection;

/// Registers the text functions on one connection.
pub(super) fn register(c: &Connection) -> rusqlite::Result<()> {
    strings::register(c)?;
    regex::register(c)?;
    bytes::register(c)?;
    number_format::register(c)?;
    bytea::register(c)
}
