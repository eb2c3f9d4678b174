//! Postgres wire parameters (text or binary) → SQLite values.

use litescale_router::PgType;
use litescale_shard::{SessionZone, Value};

use litescale_shard::parse_bool;

use crate::error::SqlError;
use crate::values::check::{input_name, integer_out_of_range, is_integer_text};
use crate::values::encode::parse_float;
use crate::values::temporal::{self, BadDateTime};

fn invalid(ty: PgType, what: &str) -> SqlError {
    SqlError::new(
        "22P02",
        format!(
            "invalid input for parameter of type OID {}: {what}",
            ty.oid()
        ),
    )
}

/// A parameter as SQLite keeps it; a timestamptz's text without an offset is local time
/// in the session's `zone`.
pub fn decode_param(
    raw: Option<&[u8]>,
    ty: PgType,
    binary: bool,
    zone: &SessionZone,
) -> Result<Value, SqlError> {
    let Some(raw) = raw else {
        return Ok(Value::Null);
    };
    if binary {
        decode_binary(raw, ty)
    } else {
        let s = std::str::from_utf8(raw)
            .map_err(|_| SqlError::new("22021", "invalid byte sequence for encoding \"UTF8\""))?;
        refuse_nul(s)?;
        match ty {
            PgType::Timestamptz if !zone.is_utc() => zone
                .timestamptz_input(s)
                .map(Value::Text)
                .map_err(|(sqlstate, message)| SqlError::new(sqlstate, message)),
            _ => decode_text(s, ty),
        }
    }
}

/// Postgres text holds no NUL character; its input refuses one as an invalid byte.
fn refuse_nul(s: &str) -> Result<(), SqlError> {
    if s.contains('\0') {
        return Err(SqlError::new(
            "22021",
            "invalid byte sequence for encoding \"UTF8\": 0x00",
        ));
    }
    Ok(())
}

fn bad_datetime(ty: PgType, s: &str) -> impl FnOnce(BadDateTime) -> SqlError {
    move |why| {
        let (sqlstate, message) = why.error(&input_name(ty), s);
        SqlError::new(sqlstate, message)
    }
}

fn fixed<const N: usize>(raw: &[u8], ty: PgType) -> Result<[u8; N], SqlError> {
    raw.try_into()
        .map_err(|_| invalid(ty, &format!("expected {N} bytes, got {}", raw.len())))
}

fn decode_binary(raw: &[u8], ty: PgType) -> Result<Value, SqlError> {
    Ok(match ty {
        PgType::Bool => Value::Integer((fixed::<1>(raw, ty)?[0] != 0) as i64),
        PgType::Int2 => Value::Integer(i16::from_be_bytes(fixed(raw, ty)?) as i64),
        PgType::Int4 => Value::Integer(i32::from_be_bytes(fixed(raw, ty)?) as i64),
        PgType::Oid => Value::Integer(u32::from_be_bytes(fixed(raw, ty)?) as i64),
        PgType::Int8 => Value::Integer(i64::from_be_bytes(fixed(raw, ty)?)),
        PgType::Float4 => Value::Real(f32::from_be_bytes(fixed(raw, ty)?) as f64),
        PgType::Float8 => Value::Real(f64::from_be_bytes(fixed(raw, ty)?)),
        PgType::Bytea => Value::Blob(raw.to_vec()),
        PgType::Jsonb => match raw.split_first() {
            Some((1, rest)) => Value::Text(utf8(rest)?),
            _ => return Err(invalid(ty, "unsupported jsonb version")),
        },
        PgType::Date => Value::Text(temporal::format_date(
            temporal::date_from_binary(i32::from_be_bytes(fixed(raw, ty)?))
                .ok_or_else(|| invalid(ty, "date out of range"))?,
        )),
        PgType::Time => Value::Text(temporal::format_time(
            temporal::time_from_binary(i64::from_be_bytes(fixed(raw, ty)?))
                .ok_or_else(|| invalid(ty, "time out of range"))?,
        )),
        PgType::Timestamp | PgType::Timestamptz => {
            let ts = temporal::timestamp_from_binary(i64::from_be_bytes(fixed(raw, ty)?))
                .ok_or_else(|| invalid(ty, "timestamp out of range"))?;
            Value::Text(if ty == PgType::Timestamp {
                temporal::format_timestamp(ts)
            } else {
                temporal::store_timestamptz(ts.and_utc())
            })
        }
        PgType::Interval => {
            let b: [u8; 16] = fixed(raw, ty)?;
            let micros = i64::from_be_bytes(b[..8].try_into().expect("8 bytes"));
            let days = i32::from_be_bytes(b[8..12].try_into().expect("4 bytes"));
            let months = i32::from_be_bytes(b[12..].try_into().expect("4 bytes"));
            Value::Text(temporal::format_interval(micros, days, months))
        }
        PgType::Uuid => Value::Text(temporal::format_uuid(&fixed(raw, ty)?)),
        PgType::Inet => Value::Text(crate::values::inet::format(
            crate::values::inet::from_binary(raw).ok_or_else(|| invalid(ty, "bad inet"))?,
        )),
        PgType::Numeric => Value::Text(exact_numeric(
            numeric_from_binary(raw).ok_or_else(|| invalid(ty, "bad numeric"))?,
        )?),
        _ if ty.element().is_some() => Value::Text(array_from_binary(raw, ty)?),
        _ => Value::Text(utf8(raw)?),
    })
}

/// A binary array (`ndim`, `has_null`, element OID, each dimension's size and lower
/// bound, then each element's length and bytes) → the text form `{a,b}` / `{{a},{b}}`
/// arrays are kept in. Lower bounds other than 1 have no place in that form: refused.
fn array_from_binary(raw: &[u8], ty: PgType) -> Result<String, SqlError> {
    let bad = |why: &str| invalid(ty, why);
    let word = |at: usize| {
        raw.get(at..at + 4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| bad("truncated array"))
    };
    let element_type = ty.element().ok_or_else(|| bad("not an array type"))?;
    let dimensions = usize::try_from(word(0)?).map_err(|_| bad("negative dimensions"))?;
    let mut dims = Vec::with_capacity(dimensions.min(6));
    for d in 0..dimensions {
        dims.push(usize::try_from(word(12 + 8 * d)?).map_err(|_| bad("negative array size"))?);
        if word(16 + 8 * d)? != 1 {
            return Err(SqlError::new(
                "0A000",
                "array parameters with lower bounds other than 1 are not supported by litescale",
            ));
        }
    }
    let count = match dims.iter().try_fold(1usize, |n, d| n.checked_mul(*d)) {
        _ if dims.is_empty() => 0,
        Some(n) => n,
        None => return Err(bad("array too large")),
    };
    let mut at = 12 + 8 * dimensions;
    let mut items = Vec::with_capacity(count.min(raw.len()));
    for _ in 0..count {
        let len = word(at)?;
        at += 4;
        if len < 0 {
            items.push(None);
            continue;
        }
        let end = at + len as usize;
        let bytes = raw.get(at..end).ok_or_else(|| bad("truncated array"))?;
        at = end;
        items.push(Some(match decode_binary(bytes, element_type)? {
            Value::Integer(i) => i.to_string(),
            Value::Real(f) => f.to_string(),
            Value::Text(t) => t,
            other => return Err(bad(&format!("unexpected element {other:?}"))),
        }));
    }
    Ok(litescale_shard::arrays::Array { dims, items }.render())
}

/// NUMERIC values are kept as SQLite numbers (8-byte floats): a value they cannot hold
/// exactly (more than 15 significant digits, or beyond their range) is refused rather than
/// silently rounded.
fn exact_numeric(decimal: String) -> Result<String, SqlError> {
    if decimal.parse::<f64>().is_ok_and(f64::is_infinite) {
        let mut e = SqlError::new("22003", "value overflows numeric format");
        e.detail =
            Some("litescale stores numeric values as 8-byte floats, up to about 1.8e308".into());
        return Err(e);
    }
    let digits: String = decimal.chars().filter(|c| c.is_ascii_digit()).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    if significant > 15 {
        return Err(SqlError::new(
            "22003",
            format!(
                "numeric value {decimal} has more than 15 significant digits, which litescale cannot store exactly"
            ),
        ));
    }
    Ok(decimal)
}

/// Postgres' binary numeric (base-10000 digits) to its decimal text.
fn numeric_from_binary(raw: &[u8]) -> Option<String> {
    let word = |i: usize| raw.get(i..i + 2).map(|b| i16::from_be_bytes([b[0], b[1]]));
    let (ndigits, weight, sign, dscale) = (word(0)?, word(2)?, word(4)? as u16, word(6)?);
    if sign == 0xC000 {
        return Some("NaN".to_owned());
    }
    let digits: Vec<i16> = (0..ndigits as usize)
        .map(|i| word(8 + 2 * i))
        .collect::<Option<_>>()?;
    let mut int_part = String::new();
    for w in 0..=weight.max(-1) {
        let d = digits.get(w as usize).copied().unwrap_or(0);
        if int_part.is_empty() {
            int_part = d.to_string();
        } else {
            int_part.push_str(&format!("{d:04}"));
        }
    }
    if int_part.is_empty() {
        int_part.push('0');
    }
    let mut frac = String::new();
    let mut w = weight + 1;
    while (frac.len() as i16) < dscale {
        let d = if w < 0 {
            0
        } else {
            digits.get(w as usize).copied().unwrap_or(0)
        };
        frac.push_str(&format!("{d:04}"));
        w += 1;
    }
    frac.truncate(dscale.max(0) as usize);
    let sign = if sign == 0x4000 { "-" } else { "" };
    Some(if frac.is_empty() {
        format!("{sign}{int_part}")
    } else {
        format!("{sign}{int_part}.{frac}")
    })
}

fn utf8(raw: &[u8]) -> Result<String, SqlError> {
    let s = String::from_utf8(raw.to_vec())
        .map_err(|_| SqlError::new("22021", "invalid byte sequence for encoding \"UTF8\""))?;
    refuse_nul(&s)?;
    Ok(s)
}

fn decode_text(s: &str, ty: PgType) -> Result<Value, SqlError> {
    Ok(match ty {
        PgType::Bool => Value::Integer(parse_bool(s).ok_or_else(|| invalid(ty, s))? as i64),
        PgType::Int2 | PgType::Int4 | PgType::Int8 | PgType::Oid => {
            let out_of_range = || {
                let (sqlstate, message) = integer_out_of_range(ty, s.trim());
                SqlError::new(sqlstate, message)
            };
            let i: i64 = match s.trim().parse() {
                Ok(i) => i,
                Err(_) if is_integer_text(s) => return Err(out_of_range()),
                Err(_) => return Err(invalid(ty, s)),
            };
            let fits = match ty {
                PgType::Int2 => i16::try_from(i).is_ok(),
                PgType::Int4 => i32::try_from(i).is_ok(),
                PgType::Oid => u32::try_from(i).is_ok(),
                _ => true,
            };
            if !fits {
                return Err(out_of_range());
            }
            Value::Integer(i)
        }
        PgType::Float4 | PgType::Float8 => {
            Value::Real(parse_float(s).ok_or_else(|| invalid(ty, s))?)
        }
        PgType::Bytea => Value::Blob(parse_bytea(s).ok_or_else(|| invalid(ty, "bad bytea"))?),
        // Dates and times are stored in one canonical text form, so that they compare and
        // sort correctly as text.
        PgType::Date => Value::Text(temporal::format_date(
            temporal::parse_date(s).map_err(bad_datetime(ty, s))?,
        )),
        PgType::Time => Value::Text(temporal::format_time(
            temporal::parse_time(s).map_err(bad_datetime(ty, s))?,
        )),
        PgType::Timestamp => Value::Text(temporal::format_timestamp(
            temporal::parse_timestamp(s).map_err(bad_datetime(ty, s))?,
        )),
        PgType::Timestamptz => Value::Text(temporal::store_timestamptz(
            temporal::parse_timestamptz(s).map_err(bad_datetime(ty, s))?,
        )),
        PgType::Uuid => Value::Text(temporal::format_uuid(
            &temporal::parse_uuid(s).ok_or_else(|| invalid(ty, s))?,
        )),
        PgType::Numeric => Value::Text(exact_numeric(s.trim().to_owned())?),
        PgType::Inet => Value::Text(crate::values::inet::format(
            crate::values::inet::parse(s).ok_or_else(|| invalid(ty, s))?,
        )),
        _ => Value::Text(s.to_owned()),
    })
}

/// Postgres bytea input: hex (`\x0a0b`) or, failing that, the bytes of the text itself.
fn parse_bytea(s: &str) -> Option<Vec<u8>> {
    let Some(hex) = s.strip_prefix("\\x") else {
        return Some(s.as_bytes().to_vec());
    };
    let digits: Vec<u8> = hex.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parameter decoded for a session in UTC.
    fn decode(raw: Option<&[u8]>, ty: PgType, binary: bool) -> Result<Value, SqlError> {
        decode_param(raw, ty, binary, &SessionZone::UTC)
    }

    #[test]
    fn decodes_both_formats() {
        assert_eq!(
            decode(Some(&7i32.to_be_bytes()), PgType::Int4, true).unwrap(),
            Value::Integer(7)
        );
        assert_eq!(
            decode(Some(b"7"), PgType::Int4, false).unwrap(),
            Value::Integer(7)
        );
        assert_eq!(
            decode(Some(b"true"), PgType::Bool, false).unwrap(),
            Value::Integer(1)
        );
        assert_eq!(
            decode(Some(b"\\x00ff"), PgType::Bytea, false).unwrap(),
            Value::Blob(vec![0, 255])
        );
        assert_eq!(decode(None, PgType::Int8, true).unwrap(), Value::Null);
        assert_eq!(
            decode(Some(&1.5f64.to_be_bytes()), PgType::Float8, true).unwrap(),
            Value::Real(1.5)
        );
    }

    #[test]
    fn binary_arrays_of_two_dimensions_keep_them() {
        let mut raw = vec![0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 23, 0, 0, 0, 2, 0, 0, 0, 1];
        raw.extend([0, 0, 0, 1, 0, 0, 0, 1]);
        for n in [1i32, 2] {
            raw.extend(4i32.to_be_bytes());
            raw.extend(n.to_be_bytes());
        }
        assert_eq!(
            decode(Some(&raw), PgType::Int4Array, true).unwrap(),
            Value::Text("{{1},{2}}".into())
        );
        raw[19] = 0;
        assert_eq!(
            decode(Some(&raw), PgType::Int4Array, true)
                .unwrap_err()
                .sqlstate,
            "0A000"
        );
    }

    #[test]
    fn numeric_binary_parameters_become_decimal_text() {
        let n = |b: &[u8]| numeric_from_binary(b).unwrap();
        assert_eq!(
            n(&[0, 3, 0, 1, 0, 0, 0, 3, 0, 1, 9, 41, 26, 124]),
            "12345.678"
        );
        assert_eq!(n(&[0, 1, 255, 255, 0x40, 0, 0, 2, 1, 244]), "-0.05");
        assert_eq!(n(&[0, 0, 0, 0, 0, 0, 0, 0]), "0");
    }

    #[test]
    fn numerics_beyond_fifteen_digits_are_refused() {
        assert_eq!(
            decode(Some(b"1234567890.12345"), PgType::Numeric, false).unwrap(),
            Value::Text("1234567890.12345".into())
        );
        assert_eq!(
            decode(Some(b"0.00000000000000000001"), PgType::Numeric, false).unwrap(),
            Value::Text("0.00000000000000000001".into())
        );
        let e = decode(Some(b"3.14159265358979323846"), PgType::Numeric, false).unwrap_err();
        assert_eq!(e.sqlstate, "22003");
    }

    #[test]
    fn bad_parameters_are_errors() {
        assert_eq!(
            decode(Some(b"x"), PgType::Int4, false)
                .unwrap_err()
                .sqlstate,
            "22P02"
        );
        assert_eq!(
            decode(Some(b"99999999999"), PgType::Int4, false)
                .unwrap_err()
                .sqlstate,
            "22003"
        );
        let e = decode(Some(b"99999999999999999999"), PgType::Int8, false).unwrap_err();
        assert_eq!(
            (e.sqlstate, e.message.as_str()),
            (
                "22003",
                "value \"99999999999999999999\" is out of range for type bigint"
            )
        );
        let e = decode(Some(b"2024-13-45"), PgType::Date, false).unwrap_err();
        assert_eq!(e.sqlstate, "22008");
        let e = decode(Some(b"a\0b"), PgType::Text, false).unwrap_err();
        assert_eq!(e.sqlstate, "22021");
        let e = decode(Some(b"a\0b"), PgType::Text, true).unwrap_err();
        assert_eq!(e.sqlstate, "22021");
        let e = decode(Some(b"1e400"), PgType::Numeric, false).unwrap_err();
        assert_eq!(e.sqlstate, "22003");
        assert_eq!(
            decode(Some(&[1, 2]), PgType::Int4, true)
                .unwrap_err()
                .sqlstate,
            "22P02"
        );
    }
}
