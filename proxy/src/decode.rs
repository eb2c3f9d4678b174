//! Postgres wire parameters (text or binary) → SQLite values.

use litescale_router::PgType;
use litescale_shard::Value;

use litescale_router::types::parse_bool;

use crate::encode::parse_float;
use crate::error::SqlError;

fn invalid(ty: PgType, what: &str) -> SqlError {
    SqlError::new(
        "22P02",
        format!(
            "invalid input for parameter of type OID {}: {what}",
            ty.oid()
        ),
    )
}

pub fn decode_param(raw: Option<&[u8]>, ty: PgType, binary: bool) -> Result<Value, SqlError> {
    let Some(raw) = raw else {
        return Ok(Value::Null);
    };
    if binary {
        decode_binary(raw, ty)
    } else {
        let s = std::str::from_utf8(raw)
            .map_err(|_| SqlError::new("22021", "invalid byte sequence for encoding \"UTF8\""))?;
        decode_text(s, ty)
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
        PgType::Int8 => Value::Integer(i64::from_be_bytes(fixed(raw, ty)?)),
        PgType::Float4 => Value::Real(f32::from_be_bytes(fixed(raw, ty)?) as f64),
        PgType::Float8 => Value::Real(f64::from_be_bytes(fixed(raw, ty)?)),
        PgType::Bytea => Value::Blob(raw.to_vec()),
        PgType::Jsonb => match raw.split_first() {
            Some((1, rest)) => Value::Text(utf8(rest)?),
            _ => return Err(invalid(ty, "unsupported jsonb version")),
        },
        t if t.is_textual() => Value::Text(utf8(raw)?),
        other => {
            return Err(SqlError::new(
                "0A000",
                format!(
                    "binary format for parameters of type OID {} is not supported yet; send text",
                    other.oid()
                ),
            ));
        }
    })
}

fn utf8(raw: &[u8]) -> Result<String, SqlError> {
    String::from_utf8(raw.to_vec())
        .map_err(|_| SqlError::new("22021", "invalid byte sequence for encoding \"UTF8\""))
}

fn decode_text(s: &str, ty: PgType) -> Result<Value, SqlError> {
    Ok(match ty {
        PgType::Bool => Value::Integer(parse_bool(s).ok_or_else(|| invalid(ty, s))? as i64),
        PgType::Int2 | PgType::Int4 | PgType::Int8 => {
            let i: i64 = s.trim().parse().map_err(|_| invalid(ty, s))?;
            let fits = match ty {
                PgType::Int2 => i16::try_from(i).is_ok(),
                PgType::Int4 => i32::try_from(i).is_ok(),
                _ => true,
            };
            if !fits {
                return Err(SqlError::new(
                    "22003",
                    format!("value \"{s}\" is out of range"),
                ));
            }
            Value::Integer(i)
        }
        PgType::Float4 | PgType::Float8 => {
            Value::Real(parse_float(s).ok_or_else(|| invalid(ty, s))?)
        }
        PgType::Bytea => Value::Blob(parse_bytea(s).ok_or_else(|| invalid(ty, "bad bytea"))?),
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

    #[test]
    fn decodes_both_formats() {
        assert_eq!(
            decode_param(Some(&7i32.to_be_bytes()), PgType::Int4, true).unwrap(),
            Value::Integer(7)
        );
        assert_eq!(
            decode_param(Some(b"7"), PgType::Int4, false).unwrap(),
            Value::Integer(7)
        );
        assert_eq!(
            decode_param(Some(b"true"), PgType::Bool, false).unwrap(),
            Value::Integer(1)
        );
        assert_eq!(
            decode_param(Some(b"\\x00ff"), PgType::Bytea, false).unwrap(),
            Value::Blob(vec![0, 255])
        );
        assert_eq!(decode_param(None, PgType::Int8, true).unwrap(), Value::Null);
        assert_eq!(
            decode_param(Some(&1.5f64.to_be_bytes()), PgType::Float8, true).unwrap(),
            Value::Real(1.5)
        );
    }

    #[test]
    fn bad_parameters_are_errors() {
        assert_eq!(
            decode_param(Some(b"x"), PgType::Int4, false)
                .unwrap_err()
                .sqlstate,
            "22P02"
        );
        assert_eq!(
            decode_param(Some(b"99999999999"), PgType::Int4, false)
                .unwrap_err()
                .sqlstate,
            "22003"
        );
        assert_eq!(
            decode_param(Some(&[1, 2]), PgType::Int4, true)
                .unwrap_err()
                .sqlstate,
            "22P02"
        );
    }
}
