//! Postgres 15's date, time, timestamp, timestamptz and interval functions as SQLite scalar
//! and aggregate functions (`pg_date`, `pg_add_interval`, `pg_extract`, `pg_to_char`, ...),
//! which the router calls where Postgres SQL has date/time expressions.
//!
//! Values travel as text in their stored forms (`2024-03-15`, `10:20:30.5`,
//! `2024-03-15 10:20:30`, `2024-03-15 10:20:30+00:00`, `1 day 02:00:00`); the session is
//! Postgres' with TimeZone UTC, DateStyle ISO and IntervalStyle postgres.
//!
//! It must not know SQL text, column types or where a value came from: a function is told
//! how to read its arguments (the `kind` argument) and answers with Postgres' value.

mod arithmetic;
mod fields;
mod input;
mod interval;
mod register;
mod session_zone;
mod to_char;
mod values;
mod zones;

pub(crate) use register::register;
pub use session_zone::SessionZone;
pub(crate) use session_zone::running_in_zone_of;

/// `a ± b` on stored texts whose types the plan did not know, when they are date/time
/// values (a date and days, a timestamp and an interval, two dates); `None` otherwise.
/// `b_days` is `b` when it is a whole number.
pub(crate) fn untyped_arithmetic(
    a: &str,
    b: &str,
    b_days: Option<i64>,
    subtract: bool,
) -> Option<rusqlite::Result<rusqlite::types::Value>> {
    use arithmetic::UntypedAnswer;
    let answer = arithmetic::untyped(a, b, b_days, subtract)?;
    Some(answer.map_err(Into::into).map(|a| match a {
        UntypedAnswer::Text(t) => rusqlite::types::Value::Text(t),
        UntypedAnswer::Integer(n) => rusqlite::types::Value::Integer(n),
    }))
}

/// The kind name (`date`, `timestamptz`, ...) of a stored date/time text, for a function
/// whose plan did not know its argument's type.
pub(crate) fn stored_kind_name(text: &str) -> Option<&'static str> {
    input::stored_kind(text).map(|k| match k {
        values::Kind::Date => "date",
        values::Kind::Time => "time",
        values::Kind::Timestamp => "timestamp",
        values::Kind::Timestamptz => "timestamptz",
        values::Kind::Interval => "interval",
    })
}

/// A date/time input text in the stored form of its kind (`date`, `timestamptz`,
/// `interval`, ...): `1:02:03` as an interval is `01:02:03`.
pub(crate) fn stored_form(kind: &str, text: &str) -> rusqlite::Result<String> {
    Ok(input::read(values::Kind::named(kind)?, text)?.format()?)
}

/// An interval in Postgres' output style `postgres` (`1 year 2 mons -2 days +38:30:00`),
/// for the proxy, which shows interval results in it.
pub fn interval_output(months: i32, days: i32, micros: i64) -> String {
    interval::Interval::new(months, days, micros).to_string()
}

/// An interval input text (`P2D`, `1.5 days`, `90 minutes`) as an interval column keeps
/// it: Postgres' output form, a bare clock given `0 days` before it, so that a function
/// guessing a value's kind from its text does not read it as a time of day.
pub(crate) fn interval_stored_form(text: &str) -> rusqlite::Result<String> {
    let output = interval::parse(text)?.to_string();
    Ok(if output.contains(|c: char| c.is_ascii_alphabetic()) {
        output
    } else {
        format!("0 days {output}")
    })
}

/// Postgres' generate_series(timestamp[tz], timestamp[tz], interval): the stored forms
/// from `start` by `step` while not past `stop`. `zoned` picks timestamptz (whose version
/// a date's series uses too).
pub(crate) fn timestamp_series(
    start: &str,
    stop: &str,
    step: &str,
    zoned: bool,
) -> rusqlite::Result<impl Iterator<Item = rusqlite::Result<String>> + use<>> {
    use values::{Kind, Value};
    let kind = if zoned {
        Kind::Timestamptz
    } else {
        Kind::Timestamp
    };
    let read = |text: &str| -> Result<values::Timestamp> {
        match input::read(kind, text)? {
            Value::Timestamp(t) | Value::Timestamptz(t) => Ok(t),
            _ => unreachable!("a timestamp reads as a timestamp"),
        }
    };
    let (start, stop) = (read(start)?, read(stop)?);
    let Value::Interval(step) = input::read(Kind::Interval, step)? else {
        unreachable!("an interval reads as an interval");
    };
    let plus = move |t| match zoned {
        true => arithmetic::timestamptz_plus(t, step),
        false => arithmetic::timestamp_plus(t, step, kind.type_name()),
    };
    let first_step = plus(start)?;
    if first_step == start {
        return Err(PgError::new("22023", "step size cannot equal zero").into());
    }
    let forward = first_step > start;
    let mut next = Some(start);
    Ok(std::iter::from_fn(move || {
        let current = next.take()?;
        if (forward && current > stop) || (!forward && current < stop) {
            return None;
        }
        next = plus(current).ok();
        let text = if zoned {
            current.format_tz()
        } else {
            current.format()
        };
        Some(text.map_err(Into::into))
    }))
}

use super::typecheck::postgres_error;

/// A Postgres error raised by a date/time function: its SQLSTATE and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PgError {
    sqlstate: &'static str,
    message: String,
}

impl PgError {
    fn new(sqlstate: &'static str, message: impl Into<String>) -> PgError {
        PgError {
            sqlstate,
            message: message.into(),
        }
    }

    /// 22007: text that is not a value of the type at all.
    fn syntax(type_name: &str, input: &str) -> PgError {
        PgError::new(
            "22007",
            format!("invalid input syntax for type {type_name}: \"{input}\""),
        )
    }

    /// 22008: text shaped like a value, with a field out of range (month 13, hour 25).
    fn field_range(input: &str) -> PgError {
        PgError::new(
            "22008",
            format!("date/time field value out of range: \"{input}\""),
        )
    }

    /// 22023: a field name extract or date_trunc does not know.
    fn unit_not_recognized(unit: &str, kind: values::Kind) -> PgError {
        PgError::new(
            "22023",
            format!(
                "unit \"{unit}\" not recognized for type {}",
                kind.type_name()
            ),
        )
    }

    /// 0A000: a field the type does not have (the hour of a date).
    fn unit_not_supported(unit: &str, kind: values::Kind) -> PgError {
        PgError::new(
            "0A000",
            format!(
                "unit \"{unit}\" not supported for type {}",
                kind.type_name()
            ),
        )
    }

    /// 22008: a result beyond the type's range.
    fn out_of_range(type_name: &str) -> PgError {
        PgError::new("22008", format!("{type_name} out of range"))
    }
}

impl From<PgError> for rusqlite::Error {
    fn from(e: PgError) -> rusqlite::Error {
        postgres_error(e.sqlstate, &e.message)
    }
}

type Result<T> = std::result::Result<T, PgError>;

/// Table-driven tests: one case a line, its arguments and the answer Postgres gives split
/// by ` | `, so that a table reads like the conformance goldens it is copied from.
#[cfg(test)]
mod golden {
    use std::fmt::Display;

    pub(super) fn check(cases: &str, answer: impl Fn(&[&str]) -> String) {
        for line in cases.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let parts: Vec<&str> = line.split(" | ").collect();
            let (expected, args) = parts.split_last().unwrap();
            assert_eq!(answer(args), *expected, "{line}");
        }
    }

    /// A result as a table writes it: the value, or `ERROR` and the SQLSTATE.
    pub(super) fn text<T: Display>(result: super::Result<T>) -> String {
        match result {
            Ok(v) => v.to_string(),
            Err(e) => format!("ERROR {}", e.sqlstate),
        }
    }
}
