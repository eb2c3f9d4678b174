//! Dates and times with SQLite's strftime: now(), extract/date_part, date_trunc, and
//! timestamp ± interval; other date arithmetic (`date + 1`) is refused, not misread.

use sqlparser::ast::{BinaryOperator, Expr, Value};

use super::super::sql::{call, string};
use crate::RouterError;
use crate::infer::inference::schemaless_type;
use crate::types::PgType;

/// Postgres' `now()`: a timestamp with microseconds (SQLite gives milliseconds).
pub(super) fn now() -> Expr {
    call(
        "strftime",
        vec![string("%Y-%m-%d %H:%M:%f+00:00"), string("now")],
    )
}

/// `x ± y` where either side is a date or time: ± interval as SQLite date modifiers;
/// `None` for arithmetic on other types.
pub(super) fn arithmetic(
    left: &Expr,
    op: &BinaryOperator,
    right: &Expr,
) -> Result<Option<Expr>, RouterError> {
    // date + 1 means "the next day" in Postgres but "2025" in SQLite.
    if (is_temporal(left) || is_temporal(right))
        && interval_text(left).is_none()
        && interval_text(right).is_none()
    {
        return Err(RouterError {
            sqlstate: "0A000",
            message: "date arithmetic other than ± interval is not supported by litescale"
                .to_owned(),
        });
    }
    // timestamp ± interval 'n unit' → strftime with SQLite's date modifiers.
    if interval_text(right).is_none()
        && !(*op == BinaryOperator::Plus && interval_text(left).is_some())
    {
        return Ok(None);
    }
    let (base, text) = match interval_text(right) {
        Some(t) => (left.clone(), t),
        None => (right.clone(), interval_text(left).unwrap_or_default()),
    };
    let sign = if *op == BinaryOperator::Minus {
        '-'
    } else {
        '+'
    };
    let mut a = vec![string("%Y-%m-%d %H:%M:%f"), base];
    a.extend(interval_modifiers(&text, sign)?);
    Ok(Some(call("strftime", a)))
}

fn is_temporal(e: &Expr) -> bool {
    matches!(
        schemaless_type(e),
        Some(PgType::Date | PgType::Timestamp | PgType::Timestamptz | PgType::Time)
    )
}

/// `extract(field from x)` / `date_part('field', x)` with SQLite's strftime.
pub(super) fn date_part(field: &str, x: Expr) -> Result<Expr, RouterError> {
    let part = |format: &str, cast: &str| {
        let formatted = call("strftime", vec![string(format), x.clone()]);
        Ok(Expr::Cast {
            kind: sqlparser::ast::CastKind::Cast,
            expr: Box::new(formatted),
            data_type: if cast == "INTEGER" {
                sqlparser::ast::DataType::Integer(None)
            } else {
                sqlparser::ast::DataType::Real
            },
            format: None,
        })
    };
    match field
        .to_ascii_lowercase()
        .trim_matches('\'')
        .trim_end_matches('s')
    {
        "year" => part("%Y", "INTEGER"),
        "month" => part("%m", "INTEGER"),
        "day" => part("%d", "INTEGER"),
        "hour" => part("%H", "INTEGER"),
        "minute" => part("%M", "INTEGER"),
        "second" => part("%f", "REAL"),
        "dow" => part("%w", "INTEGER"),
        "doy" => part("%j", "INTEGER"),
        "epoch" => part("%s", "INTEGER"),
        other => Err(RouterError {
            sqlstate: "0A000",
            message: format!("date field \"{other}\" is not supported by litescale"),
        }),
    }
}

/// `date_trunc('unit', x)` as the strftime format that keeps the fields down to `unit`.
pub(super) fn date_trunc(unit: &str, x: Expr) -> Result<Expr, RouterError> {
    let format = match unit.to_ascii_lowercase().as_str() {
        "year" => "%Y-01-01 00:00:00",
        "month" => "%Y-%m-01 00:00:00",
        "day" => "%Y-%m-%d 00:00:00",
        "hour" => "%Y-%m-%d %H:00:00",
        "minute" => "%Y-%m-%d %H:%M:00",
        "second" => "%Y-%m-%d %H:%M:%S",
        other => {
            return Err(RouterError {
                sqlstate: "0A000",
                message: format!("date_trunc unit \"{other}\" is not supported by litescale"),
            });
        }
    };
    Ok(call("strftime", vec![string(format), x]))
}

/// SQLite date modifiers (`+1 days`, `-2 hours`) for an interval literal, with `sign`.
fn interval_modifiers(text: &str, sign: char) -> Result<Vec<Expr>, RouterError> {
    let unsupported = || RouterError {
        sqlstate: "0A000",
        message: format!("interval '{text}' in date arithmetic is not supported by litescale"),
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() || !words.len().is_multiple_of(2) {
        return Err(unsupported());
    }
    words
        .chunks(2)
        .map(|pair| {
            let n: f64 = pair[0].parse().map_err(|_| unsupported())?;
            let unit = pair[1].to_ascii_lowercase();
            let (n, unit) = match unit.trim_end_matches('s') {
                "year" => (n, "years"),
                "mon" | "month" => (n, "months"),
                "week" => (n * 7.0, "days"),
                "day" => (n, "days"),
                "hour" => (n, "hours"),
                "minute" | "min" => (n, "minutes"),
                "second" | "sec" => (n, "seconds"),
                _ => return Err(unsupported()),
            };
            let n = if sign == '-' { -n } else { n };
            Ok(string(&format!("{n:+} {unit}")))
        })
        .collect()
}

fn interval_text(e: &Expr) -> Option<String> {
    let Expr::Interval(interval) = e else {
        return None;
    };
    let Expr::Value(v) = interval.value.as_ref() else {
        return None;
    };
    let Value::SingleQuotedString(s) = &v.value else {
        return None;
    };
    Some(match &interval.leading_field {
        Some(field) => format!("{s} {field}"),
        None => s.clone(),
    })
}

#[cfg(test)]
mod tests {
    use crate::plan::session::SessionContext;
    use crate::plan_in;

    #[test]
    fn date_arithmetic_is_interval_arithmetic_only() {
        let e = plan_in("select current_date + 1", &SessionContext::default()).unwrap_err();
        assert_eq!(e.sqlstate, "0A000");
        assert!(
            plan_in(
                "select current_date + interval '1 day'",
                &SessionContext::default()
            )
            .is_ok()
        );
    }
}
