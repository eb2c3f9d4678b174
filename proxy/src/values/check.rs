//! Which values a column of a Postgres type may hold: exactly those the encoder can send as
//! that type (encode.rs), plus well-formed JSON for json/jsonb. The router puts a CHECK
//! calling this (through the shard's `pg_typecheck`) on each typed column, so that every
//! write path (literals, parameters, COPY, UPDATE, ON CONFLICT, INSERT ... SELECT) refuses
//! what Postgres' input functions would refuse, with their SQLSTATE and message.

use litescale_router::PgType;
use litescale_router::types::format_type;
use litescale_shard::{ShardError, Value};

use crate::values::encode::{self, float_text};
use crate::values::temporal::{self, BadDateTime};

/// The name Postgres' input errors give a type (`integer`, `timestamp with time zone`,
/// but `timestamp` and `time` for the types without time zone).
pub(crate) fn input_name(ty: PgType) -> String {
    match ty {
        PgType::Time | PgType::Timestamp => ty.name().to_owned(),
        _ => format_type(ty.oid(), -1).unwrap_or_else(|| ty.name().to_owned()),
    }
}

/// Postgres' error for the text `input` that is out of range for an integer type.
pub(crate) fn integer_out_of_range(ty: PgType, input: &str) -> (&'static str, String) {
    (
        "22003",
        format!(
            "value \"{input}\" is out of range for type {}",
            input_name(ty)
        ),
    )
}

/// Whether a text is an integer (sign and digits), however large.
pub(crate) fn is_integer_text(s: &str) -> bool {
    let digits = s.trim().trim_start_matches(['+', '-']);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The check the shard runs on every value written to a column of the type with OID
/// `oid` (`server/shared.rs` hands it to the storage in its `TypeCatalog`).
pub fn check_stored(value: &Value, oid: u32) -> Result<(), ShardError> {
    let (Some(ty), false) = (PgType::from_oid(oid), matches!(value, Value::Null)) else {
        return Ok(());
    };
    let fits = match ty {
        PgType::Json | PgType::Jsonb => json_fits(value),
        _ => encode::sendable(value, ty).is_ok(),
    };
    if fits {
        return Ok(());
    }
    let (sqlstate, message) = rejection(value, ty);
    Err(ShardError::new(sqlstate, message))
}

/// json and jsonb are sent as stored; numbers are JSON, text must parse as JSON.
fn json_fits(value: &Value) -> bool {
    match value {
        Value::Null | Value::Integer(_) => true,
        Value::Real(f) => f.is_finite(),
        Value::Text(s) => serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok(),
        Value::Blob(_) => false,
    }
}

/// Postgres' SQLSTATE and message for a value its input function for `ty` refuses.
fn rejection(value: &Value, ty: PgType) -> (&'static str, String) {
    let input = match value {
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => float_text(*f, 15),
        Value::Text(s) => s.clone(),
        Value::Blob(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Null => String::new(),
    };
    let syntax = || {
        (
            "22P02",
            format!(
                "invalid input syntax for type {}: \"{input}\"",
                input_name(ty)
            ),
        )
    };
    match (ty, value) {
        (PgType::Int2 | PgType::Int4 | PgType::Int8 | PgType::Oid, Value::Integer(_)) => {
            integer_out_of_range(ty, &input)
        }
        (PgType::Int2 | PgType::Int4 | PgType::Int8 | PgType::Oid, Value::Real(f))
            if f.fract() == 0.0 =>
        {
            ("22003", format!("{} out of range", input_name(ty)))
        }
        (PgType::Int2 | PgType::Int4 | PgType::Int8 | PgType::Oid, _)
            if is_integer_text(&input) =>
        {
            integer_out_of_range(ty, input.trim())
        }
        (PgType::Numeric, Value::Real(_)) => ("22003", "value overflows numeric format".into()),
        (PgType::Json | PgType::Jsonb, _) => ("22P02", "invalid input syntax for type json".into()),
        (PgType::Interval, _) => BadDateTime::Syntax.error("interval", &input),
        (PgType::Date | PgType::Time | PgType::Timestamp | PgType::Timestamptz, Value::Text(s)) => {
            let why = match ty {
                PgType::Date => temporal::parse_date(s).err(),
                PgType::Time => temporal::parse_time(s).err(),
                PgType::Timestamp => temporal::parse_timestamp(s).err(),
                _ => temporal::parse_timestamptz(s).err(),
            };
            // Parsed, yet not sendable: beyond the binary form's range.
            why.unwrap_or(BadDateTime::FieldOutOfRange)
                .error(&input_name(ty), &input)
        }
        (PgType::Date | PgType::Time | PgType::Timestamp | PgType::Timestamptz, _) => {
            BadDateTime::Syntax.error(&input_name(ty), &input)
        }
        _ => syntax(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(value: Value, ty: PgType) -> (&'static str, String) {
        let e = check_stored(&value, ty.oid()).unwrap_err();
        (e.sqlstate, e.message)
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn refusals_read_as_postgres_input_errors() {
        assert_eq!(
            refused(text("abc"), PgType::Int4),
            (
                "22P02",
                "invalid input syntax for type integer: \"abc\"".into()
            )
        );
        assert_eq!(
            refused(Value::Integer(99_999_999_999), PgType::Int4),
            (
                "22003",
                "value \"99999999999\" is out of range for type integer".into()
            )
        );
        assert_eq!(
            refused(text("99999999999999999999"), PgType::Int8),
            (
                "22003",
                "value \"99999999999999999999\" is out of range for type bigint".into()
            )
        );
        assert_eq!(
            refused(Value::Real(1e20), PgType::Int8),
            ("22003", "bigint out of range".into())
        );
        assert_eq!(
            refused(text("2024-13-45"), PgType::Date),
            (
                "22008",
                "date/time field value out of range: \"2024-13-45\"".into()
            )
        );
        assert_eq!(refused(text("nope"), PgType::Date).0, "22007");
        assert_eq!(refused(text("nope"), PgType::Uuid).0, "22P02");
        assert_eq!(
            refused(text("maybe"), PgType::Bool),
            (
                "22P02",
                "invalid input syntax for type boolean: \"maybe\"".into()
            )
        );
        assert_eq!(
            refused(text("{nope"), PgType::Json),
            ("22P02", "invalid input syntax for type json".into())
        );
        assert_eq!(
            refused(Value::Real(f64::INFINITY), PgType::Numeric),
            ("22003", "value overflows numeric format".into())
        );
        assert_eq!(
            refused(text("2024-01-01 00:00:00+99:99"), PgType::Timestamptz).0,
            "22009"
        );
    }

    #[test]
    fn what_the_encoder_sends_is_accepted() {
        let ok = |v: Value, ty: PgType| check_stored(&v, ty.oid()).is_ok();
        assert!(ok(Value::Integer(12), PgType::Int4));
        assert!(ok(Value::Null, PgType::Int4));
        assert!(ok(text("t"), PgType::Bool));
        assert!(ok(Value::Integer(1), PgType::Bool));
        assert!(ok(text("2024-02-29"), PgType::Date));
        assert!(ok(text("2024-02-29 10:00:00+05:30"), PgType::Timestamptz));
        assert!(ok(text("{\"a\": [1, 2]}"), PgType::Jsonb));
        assert!(ok(Value::Integer(3), PgType::Json));
        assert!(ok(Value::Real(12.5), PgType::Numeric));
        assert!(ok(
            text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
            PgType::Uuid
        ));
        assert!(ok(text("anything"), PgType::Text));
    }
}
