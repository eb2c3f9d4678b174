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

/// Argument `i` as an integer; a fraction rounds as Postgres' cast to integer does, text
/// that is no integer is 22P02, and what bigint cannot hold is 22003.
pub(crate) fn integer(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<i64>> {
    Ok(match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n),
        ValueRef::Real(f) => {
            let rounded = f.round();
            // i64::MAX as f64 is 2^63, which i64 cannot hold.
            if !(-(2f64.powi(63))..2f64.powi(63)).contains(&rounded) {
                return Err(postgres_error("22003", "bigint out of range"));
            }
            Some(rounded as i64)
        }
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            let s = String::from_utf8_lossy(t);
            let digits = s.trim();
            Some(digits.parse().map_err(|_| {
                let unsigned = digits.strip_prefix(['-', '+']).unwrap_or(digits);
                if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
                    postgres_error(
                        "22003",
                        &format!("value \"{s}\" is out of range for type bigint"),
                    )
                } else {
                    postgres_error(
                        "22P02",
                        &format!("invalid input syntax for type integer: \"{s}\""),
                    )
                }
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
