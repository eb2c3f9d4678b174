//! SQL function arguments read as Postgres would coerce them: text from any value, integers
//! and floats from numbers or numeric text, bytes from blobs or text. NULL is `None`, so
//! the functions can answer NULL for NULL input as Postgres' strict functions do.

use rusqlite::functions::Context;
use rusqlite::types::ValueRef;

use super::typecheck::postgres_error;

/// Argument `i` as text.
pub(crate) fn text(ctx: &Context<'_>, i: usize) -> Option<String> {
    match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    }
}

/// Argument `i` as bytes (bytea values are blobs; literals may arrive as text).
pub(crate) fn bytes(ctx: &Context<'_>, i: usize) -> Option<Vec<u8>> {
    match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(t.to_vec()),
        ValueRef::Integer(n) => Some(n.to_string().into_bytes()),
        ValueRef::Real(f) => Some(f.to_string().into_bytes()),
    }
}

/// Argument `i` as an integer; a fraction rounds as Postgres' cast to integer does, and
/// text that is no number is 22P02.
pub(crate) fn integer(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<i64>> {
    Ok(match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n),
        ValueRef::Real(f) => Some(f.round() as i64),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            let s = String::from_utf8_lossy(t);
            Some(s.trim().parse().map_err(|_| {
                postgres_error(
                    "22P02",
                    &format!("invalid input syntax for type integer: \"{s}\""),
                )
            })?)
        }
    })
}

/// Argument `i` as a float.
pub(crate) fn float(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<f64>> {
    Ok(match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n as f64),
        ValueRef::Real(f) => Some(f),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            let s = String::from_utf8_lossy(t);
            Some(s.trim().parse().map_err(|_| {
                postgres_error(
                    "22P02",
                    &format!("invalid input syntax for type double precision: \"{s}\""),
                )
            })?)
        }
    })
}
