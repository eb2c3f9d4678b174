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
mod interval_input;
mod register;
mod to_char;
mod values;
mod zones;

pub(crate) use register::register;

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
