//! SQL functions every connection gets, so the router can ask SQLite for Postgres'
//! behaviour where SQLite's differs (division by zero is an error, not NULL), and
//! gen_random_uuid().

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, Error};

/// The message SQLite reports for a failing pg_div / pg_mod; engine/sqlite_errors.rs maps it
/// to 22012.
pub(crate) const DIVISION_BY_ZERO: &str = "division by zero";
pub(crate) const INTEGER_OUT_OF_RANGE: &str = "integer out of range";

enum Number {
    Int(i64),
    Real(f64),
}

fn number(v: ValueRef<'_>) -> Option<Number> {
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(Number::Int(i)),
        ValueRef::Real(f) => Some(Number::Real(f)),
        // Arithmetic on text reads it as a number, as SQLite's own operators do.
        ValueRef::Text(t) => {
            let s = std::str::from_utf8(t).unwrap_or("").trim();
            Some(match s.parse::<i64>() {
                Ok(i) => Number::Int(i),
                Err(_) => Number::Real(s.parse().unwrap_or(0.0)),
            })
        }
        ValueRef::Blob(_) => Some(Number::Int(0)),
    }
}

fn user_error(message: &str) -> Error {
    Error::UserFunctionError(message.into())
}

fn as_f64(n: &Number) -> f64 {
    match n {
        Number::Int(i) => *i as f64,
        Number::Real(f) => *f,
    }
}

fn arithmetic(
    ctx: &Context<'_>,
    int_op: fn(i64, i64) -> Option<i64>,
    real_op: fn(f64, f64) -> f64,
) -> rusqlite::Result<SqlValue> {
    let (Some(a), Some(b)) = (number(ctx.get_raw(0)), number(ctx.get_raw(1))) else {
        return Ok(SqlValue::Null);
    };
    match (&a, &b) {
        (Number::Int(_), Number::Int(0)) => Err(user_error(DIVISION_BY_ZERO)),
        (Number::Int(x), Number::Int(y)) => int_op(*x, *y)
            .map(SqlValue::Integer)
            .ok_or_else(|| user_error(INTEGER_OUT_OF_RANGE)),
        _ if as_f64(&b) == 0.0 => Err(user_error(DIVISION_BY_ZERO)),
        _ => Ok(SqlValue::Real(real_op(as_f64(&a), as_f64(&b)))),
    }
}

pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    // Integer division truncates toward zero, as in Postgres.
    conn.create_scalar_function("pg_div", 2, flags, |ctx| {
        arithmetic(ctx, i64::checked_div, |a, b| a / b)
    })?;
    conn.create_scalar_function("pg_mod", 2, flags, |ctx| {
        arithmetic(ctx, i64::checked_rem, |a, b| a % b)
    })?;
    // Postgres' `~` family (POSIX regular expressions; the `regex` crate reads the common
    // subset the same way). The compiled pattern is cached per statement.
    conn.create_scalar_function("pg_regex", 3, flags, |ctx| {
        let Some(text) = ctx.get::<Option<String>>(0)? else {
            return Ok(None);
        };
        let insensitive = ctx.get::<i64>(2)? != 0;
        let re = ctx.get_or_create_aux(1, |v| -> Result<regex::Regex, BoxError> {
            let pattern = v.as_str()?;
            Ok(regex::RegexBuilder::new(pattern)
                .case_insensitive(insensitive)
                .build()?)
        })?;
        Ok(Some(re.is_match(&text)))
    })?;
    // Postgres' gen_random_uuid(): a version 4 UUID in its text form (not deterministic).
    conn.create_scalar_function("gen_random_uuid", 0, FunctionFlags::SQLITE_UTF8, |_| {
        Ok(uuid::Uuid::new_v4().to_string())
    })?;
    rusqlite::vtab::series::load_module(conn)?;
    Ok(())
}

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_behaves_as_in_postgres() {
        let c = Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        let q = |sql: &str| c.query_row(sql, [], |r| r.get::<_, SqlValue>(0));
        assert_eq!(q("SELECT pg_div(7, 2)").unwrap(), SqlValue::Integer(3));
        assert_eq!(q("SELECT pg_div(-7, 2)").unwrap(), SqlValue::Integer(-3));
        assert_eq!(q("SELECT pg_div(7.0, 2)").unwrap(), SqlValue::Real(3.5));
        assert_eq!(q("SELECT pg_mod(-7, 3)").unwrap(), SqlValue::Integer(-1));
        assert_eq!(q("SELECT pg_div(1, NULL)").unwrap(), SqlValue::Null);
        let e: crate::ShardError = q("SELECT pg_div(1, 0)").unwrap_err().into();
        assert_eq!(e.sqlstate, "22012");
        let e: crate::ShardError = q("SELECT pg_div(-9223372036854775808, -1)")
            .unwrap_err()
            .into();
        assert_eq!(e.sqlstate, "22003");
        let n: i64 = c
            .query_row("SELECT count(*) FROM generate_series(1, 10)", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(n, 10);
    }
}
