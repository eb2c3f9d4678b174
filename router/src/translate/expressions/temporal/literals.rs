//! Typed literals (`date '2024-01-01'`, `interval '1 day'`) and casts to a date or time
//! type: the shard's input functions check the text as Postgres does and store it in the
//! one form each type is kept in.

use sqlparser::ast::{CastKind, DataType, DateTimeField, Expr, Interval, TypedString, Value};

use super::super::super::sql::{call, string};
use crate::types::{PgType, from_data_type};

/// The shard's input function for a date or time type.
fn input_function(t: PgType) -> Option<&'static str> {
    Some(match t {
        PgType::Date => "pg_date",
        PgType::Time => "pg_time",
        PgType::Timestamp => "pg_timestamp",
        PgType::Timestamptz => "pg_timestamptz",
        PgType::Interval => "pg_interval",
        _ => return None,
    })
}

/// `type 'text'`: a date or time type through its input function; any other type as the
/// cast Postgres reads it as (`jsonb '{}'` is `'{}'::jsonb`).
pub(in super::super) fn typed_literal(typed: &TypedString) -> Expr {
    let text = match &typed.value.value {
        Value::SingleQuotedString(s)
        | Value::EscapedStringLiteral(s)
        | Value::DollarQuotedString(sqlparser::ast::DollarQuotedString { value: s, .. }) => {
            string(s)
        }
        other => Expr::value(other.clone()),
    };
    match from_data_type(&typed.data_type).and_then(input_function) {
        Some(f) => call(f, vec![text]),
        None => Expr::Cast {
            kind: CastKind::DoubleColon,
            expr: Box::new(text),
            data_type: typed.data_type.clone(),
            format: None,
        },
    }
}

/// `x::date` and the like; `None` for casts to other types.
pub(in super::super) fn cast(inner: &Expr, data_type: &DataType) -> Option<Expr> {
    let f = input_function(from_data_type(data_type)?)?;
    Some(call(f, vec![inner.clone()]))
}

/// `interval '1 day'`, `interval '1' day`, `interval '1 2' day to hour`.
pub(in super::super) fn interval(i: &Interval) -> Expr {
    let mut a = vec![(*i.value).clone()];
    if let Some(leading) = &i.leading_field {
        let mut qualifier = field_name(leading);
        if let Some(last) = &i.last_field {
            qualifier = format!("{qualifier} TO {}", field_name(last));
        }
        a.push(string(&qualifier));
    }
    call("pg_interval", a)
}

fn field_name(f: &DateTimeField) -> String {
    f.to_string().to_ascii_uppercase()
}
