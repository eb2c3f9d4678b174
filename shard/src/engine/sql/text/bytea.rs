//! bytea values as Postgres reads and changes them: `pg_bytea` is the input function a cast
//! to bytea calls (`\x` hex or the escape format), then get_byte/set_byte, get_bit/set_bit,
//! convert_to/convert_from (UTF8 only, the one encoding litescale stores), a bytea btrim
//! and overlay (for text as well as bytea). A text argument where Postgres wants bytea is an
//! untyped literal there, so it is read with bytea's input function.

use rusqlite::Connection;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value as SqlValue, ValueRef};

use super::super::args::{integer, text};
use super::super::typecheck::postgres_error;
use super::bytes::decode;

/// Postgres' byteain: `\x` and hex digits, else the escape format.
pub(crate) fn bytea_in(s: &str) -> rusqlite::Result<Vec<u8>> {
    match s.strip_prefix("\\x") {
        Some(digits) => decode(digits, "hex"),
        None => decode(s, "escape"),
    }
}

/// Argument `i` as bytea: a blob as stored, text through bytea's input function.
fn bytea(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<Vec<u8>>> {
    Ok(match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Blob(b) => Some(b.to_vec()),
        _ => text(ctx, i).map(|s| bytea_in(&s)).transpose()?,
    })
}

/// The index into `len` items that `n` names, or Postgres' 2202E.
fn checked_index(n: i64, len: usize) -> rusqlite::Result<usize> {
    usize::try_from(n).ok().filter(|&i| i < len).ok_or_else(|| {
        postgres_error(
            "2202E",
            &format!("index {n} out of valid range, 0..{}", len as i64 - 1),
        )
    })
}

/// Postgres accepts an encoding's name in any case and with any punctuation (`utf-8`).
fn is_utf8(name: &str) -> rusqlite::Result<()> {
    let canonical: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    if canonical == "utf8" || canonical == "unicode" {
        Ok(())
    } else {
        Err(postgres_error(
            "0A000",
            &format!("encoding \"{name}\" is not supported by litescale, which stores UTF8"),
        ))
    }
}

/// `btrim(bytea, bytea)`: the bytes of the second argument off both ends of the first.
fn trim_bytes(data: &[u8], set: &[u8]) -> Vec<u8> {
    let start = data.iter().position(|b| !set.contains(b));
    let end = data.iter().rposition(|b| !set.contains(b));
    match (start, end) {
        (Some(s), Some(e)) => data[s..=e].to_vec(),
        _ => Vec::new(),
    }
}

/// `overlay(s placing r from f for n)`: `s` up to `f`, `r`, then `s` from `f + n`
/// (`n` defaults to the length of `r`), over any items (characters or bytes).
fn overlay<T: Clone>(s: &[T], r: &[T], from: i64, count: Option<i64>) -> rusqlite::Result<Vec<T>> {
    let count = count.unwrap_or(r.len() as i64);
    if from < 1 || count < 0 {
        return Err(postgres_error(
            "22011",
            "negative substring length not allowed",
        ));
    }
    let head = usize::try_from(from - 1).unwrap_or(usize::MAX).min(s.len());
    let tail = usize::try_from(from.saturating_add(count) - 1)
        .unwrap_or(usize::MAX)
        .min(s.len());
    Ok([&s[..head], r, &s[tail..]].concat())
}

fn pg_overlay(ctx: &Context<'_>) -> rusqlite::Result<SqlValue> {
    let count = if ctx.len() == 4 {
        match integer(ctx, 3)? {
            Some(n) => Some(n),
            None => return Ok(SqlValue::Null),
        }
    } else {
        None
    };
    let Some(from) = integer(ctx, 2)? else {
        return Ok(SqlValue::Null);
    };
    if matches!(ctx.get_raw(0), ValueRef::Blob(_)) || matches!(ctx.get_raw(1), ValueRef::Blob(_)) {
        let (Some(s), Some(r)) = (bytea(ctx, 0)?, bytea(ctx, 1)?) else {
            return Ok(SqlValue::Null);
        };
        return overlay(&s, &r, from, count).map(SqlValue::Blob);
    }
    let (Some(s), Some(r)) = (text(ctx, 0), text(ctx, 1)) else {
        return Ok(SqlValue::Null);
    };
    let (s, r): (Vec<char>, Vec<char>) = (s.chars().collect(), r.chars().collect());
    overlay(&s, &r, from, count).map(|c| SqlValue::Text(c.into_iter().collect()))
}

pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("pg_bytea", 1, flags, |ctx| bytea(ctx, 0))?;
    conn.create_scalar_function("get_byte", 2, flags, |ctx| {
        let (Some(data), Some(n)) = (bytea(ctx, 0)?, integer(ctx, 1)?) else {
            return Ok(None);
        };
        Ok(Some(i64::from(data[checked_index(n, data.len())?])))
    })?;
    conn.create_scalar_function("set_byte", 3, flags, |ctx| {
        let (Some(mut data), Some(n), Some(value)) =
            (bytea(ctx, 0)?, integer(ctx, 1)?, integer(ctx, 2)?)
        else {
            return Ok(None);
        };
        // Postgres keeps the low byte of the new value.
        let at = checked_index(n, data.len())?;
        data[at] = value as u8;
        Ok(Some(data))
    })?;
    // Bit n is bit n % 8 of byte n / 8, counting from the least significant.
    conn.create_scalar_function("get_bit", 2, flags, |ctx| {
        let (Some(data), Some(n)) = (bytea(ctx, 0)?, integer(ctx, 1)?) else {
            return Ok(None);
        };
        let bit = checked_index(n, data.len() * 8)?;
        Ok(Some(i64::from((data[bit / 8] >> (bit % 8)) & 1)))
    })?;
    conn.create_scalar_function("set_bit", 3, flags, |ctx| {
        let (Some(mut data), Some(n), Some(value)) =
            (bytea(ctx, 0)?, integer(ctx, 1)?, integer(ctx, 2)?)
        else {
            return Ok(None);
        };
        let bit = checked_index(n, data.len() * 8)?;
        match value {
            0 => data[bit / 8] &= !(1 << (bit % 8)),
            1 => data[bit / 8] |= 1 << (bit % 8),
            _ => return Err(postgres_error("22023", "new bit must be 0 or 1")),
        }
        Ok(Some(data))
    })?;
    conn.create_scalar_function("convert_to", 2, flags, |ctx| {
        let (Some(s), Some(encoding)) = (text(ctx, 0), text(ctx, 1)) else {
            return Ok(None);
        };
        is_utf8(&encoding)?;
        Ok(Some(s.into_bytes()))
    })?;
    conn.create_scalar_function("convert_from", 2, flags, |ctx| {
        let (Some(data), Some(encoding)) = (bytea(ctx, 0)?, text(ctx, 1)) else {
            return Ok(None);
        };
        is_utf8(&encoding)?;
        String::from_utf8(data).map(Some).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            postgres_error(
                "22021",
                &format!(
                    "invalid byte sequence for encoding \"UTF8\": 0x{:02x}",
                    e.as_bytes()[at]
                ),
            )
        })
    })?;
    conn.create_scalar_function("pg_bytea_trim", 2, flags, |ctx| {
        let (Some(data), Some(set)) = (bytea(ctx, 0)?, bytea(ctx, 1)?) else {
            return Ok(None);
        };
        Ok(Some(trim_bytes(&data, &set)))
    })?;
    conn.create_scalar_function("pg_overlay", 3, flags, |ctx| pg_overlay(ctx))?;
    conn.create_scalar_function("pg_overlay", 4, flags, |ctx| pg_overlay(ctx))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        c
    }

    fn hex_of(c: &Connection, sql: &str) -> String {
        c.query_row(&format!("SELECT lower(hex({sql}))"), [], |r| r.get(0))
            .unwrap()
    }

    fn sqlstate(c: &Connection, sql: &str) -> String {
        let e: crate::ShardError = c
            .query_row(&format!("SELECT {sql}"), [], |r| r.get::<_, SqlValue>(0))
            .unwrap_err()
            .into();
        e.sqlstate.to_string()
    }

    #[test]
    fn bytea_input_reads_hex_and_escape_formats() {
        let c = connection();
        assert_eq!(hex_of(&c, "pg_bytea('\\xDEADbeef')"), "deadbeef");
        assert_eq!(hex_of(&c, "pg_bytea('a\\\\b')"), "615c62");
        assert_eq!(hex_of(&c, "pg_bytea('\\001\\002')"), "0102");
        assert_eq!(hex_of(&c, "pg_bytea(x'ff')"), "ff");
        assert_eq!(sqlstate(&c, "pg_bytea('\\xzz')"), "22023");
        assert_eq!(sqlstate(&c, "pg_bytea('\\x0')"), "22023");
        assert_eq!(sqlstate(&c, "pg_bytea('\\9')"), "22P02");
    }

    #[test]
    fn bytes_and_bits_are_read_and_set_as_in_postgres() {
        let c = connection();
        let int = |sql: &str| -> i64 {
            c.query_row(&format!("SELECT {sql}"), [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(int("get_byte('\\x1234567890', 4)"), 0x90);
        assert_eq!(int("get_bit('\\x1234567890', 30)"), 1);
        assert_eq!(hex_of(&c, "set_byte('\\x1234567890', 4, 64)"), "1234567840");
        assert_eq!(hex_of(&c, "set_bit('\\x00', 9 - 8, 1)"), "02");
        assert_eq!(sqlstate(&c, "get_byte('\\x12', 1)"), "2202E");
    }

    #[test]
    fn conversions_trims_and_overlays() {
        let c = connection();
        assert_eq!(hex_of(&c, "convert_to('hé', 'UTF8')"), "68c3a9");
        let s: String = c
            .query_row("SELECT convert_from('\\x68c3a9', 'utf-8')", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(s, "hé");
        assert_eq!(sqlstate(&c, "convert_from('\\xff', 'UTF8')"), "22021");
        assert_eq!(
            hex_of(&c, "pg_bytea_trim(x'1234567890', '\\x9012')"),
            "345678"
        );
        assert_eq!(
            hex_of(&c, "pg_overlay(x'1234567890', x'0203', 2, 3)"),
            "12020390"
        );
        let s: String = c
            .query_row("SELECT pg_overlay('Txxxxas', 'hom', 2, 4)", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(s, "Thomas");
    }
}
