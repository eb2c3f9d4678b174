//! SQL functions every connection gets, so the router can ask SQLite for Postgres'
//! behaviour where SQLite's differs (division by zero is an error, not NULL; `±` on values
//! whose type the plan did not know), and
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
    let divides = int_op(7, 0).is_none();
    match (&a, &b) {
        (Number::Int(_), Number::Int(0)) if divides => Err(user_error(DIVISION_BY_ZERO)),
        (Number::Int(x), Number::Int(y)) => int_op(*x, *y)
            .map(SqlValue::Integer)
            .ok_or_else(|| user_error(INTEGER_OUT_OF_RANGE)),
        _ if divides && as_f64(&b) == 0.0 => Err(user_error(DIVISION_BY_ZERO)),
        _ => Ok(SqlValue::Real(real_op(as_f64(&a), as_f64(&b)))),
    }
}

fn stored_text(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Null | ValueRef::Blob(_) => None,
    }
}

fn whole_number(v: ValueRef<'_>) -> Option<i64> {
    match v {
        ValueRef::Integer(i) => Some(i),
        ValueRef::Text(t) => std::str::from_utf8(t).ok()?.trim().parse().ok(),
        _ => None,
    }
}

/// `a ± b` where the plan did not know a side's type (a column, a parameter): dates,
/// times and intervals in their stored forms as Postgres adds them (`date + 1` is the next
/// day), numbers as numbers, with Postgres' error where a bigint overflows.
fn untyped_sum(ctx: &Context<'_>, subtract: bool) -> rusqlite::Result<SqlValue> {
    let (a, b) = (ctx.get_raw(0), ctx.get_raw(1));
    if let (ValueRef::Text(_), Some(a_text), Some(b_text)) = (a, stored_text(a), stored_text(b))
        && let Some(answer) =
            super::datetime::untyped_arithmetic(&a_text, &b_text, whole_number(b), subtract)
    {
        return answer;
    }
    // `integer + date` and `interval + timestamp` read the other way round.
    if !subtract
        && let (ValueRef::Text(_), Some(a_text), Some(b_text)) = (b, stored_text(a), stored_text(b))
        && let Some(answer) =
            super::datetime::untyped_arithmetic(&b_text, &a_text, whole_number(a), false)
    {
        return answer;
    }
    if subtract {
        arithmetic(ctx, i64::checked_sub, |a, b| a - b)
    } else {
        arithmetic(ctx, i64::checked_add, |a, b| a + b)
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
    conn.create_scalar_function("pg_plus", 2, flags, |ctx| untyped_sum(ctx, false))?;
    conn.create_scalar_function("pg_minus", 2, flags, |ctx| untyped_sum(ctx, true))?;
    // The kind a date function is told for an argument whose type the plan did not know.
    conn.create_scalar_function("pg_kind_of", 1, flags, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Null => None,
            ValueRef::Text(t) => Some(
                super::datetime::stored_kind_name(&String::from_utf8_lossy(t)).ok_or_else(
                    || {
                        super::typecheck::postgres_error(
                            "42883",
                            &format!(
                                "function does not exist for a value that is not a date, time or interval: \"{}\"",
                                String::from_utf8_lossy(t)
                            ),
                        )
                    },
                )?,
            ),
            _ => {
                return Err(super::typecheck::postgres_error(
                    "42883",
                    "a date/time function does not exist for a number",
                ));
            }
        })
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

    #[test]
    fn untyped_sums_add_dates_as_dates_and_numbers_as_numbers() {
        let c = Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        super::super::datetime::register(&c).unwrap();
        let q = |sql: &str| c.query_row(sql, [], |r| r.get::<_, SqlValue>(0));
        let text = |s: &str| SqlValue::Text(s.to_owned());
        assert_eq!(
            q("SELECT pg_plus('2024-02-28', 2)").unwrap(),
            text("2024-03-01")
        );
        assert_eq!(
            q("SELECT pg_plus(1, '2024-01-30')").unwrap(),
            text("2024-01-31")
        );
        assert_eq!(
            q("SELECT pg_minus('2024-03-01', '2024-02-01')").unwrap(),
            SqlValue::Integer(29)
        );
        assert_eq!(
            q("SELECT pg_minus('2024-03-15 10:00:00', '2024-03-14 08:30:00')").unwrap(),
            text("1 day 01:30:00")
        );
        assert_eq!(
            q("SELECT pg_plus('2024-01-31 10:00:00+00:00', '1 mon')").unwrap(),
            text("2024-02-29 10:00:00+00:00")
        );
        assert_eq!(
            q("SELECT pg_minus('2024-02-29 13:45:30', '00:30:00')").unwrap(),
            text("2024-02-29 13:15:30")
        );
        assert_eq!(q("SELECT pg_plus(5, '3')").unwrap(), SqlValue::Integer(8));
        assert_eq!(q("SELECT pg_minus(2.5, 1)").unwrap(), SqlValue::Real(1.5));
        let e: crate::ShardError = q("SELECT pg_plus(9223372036854775807, 1)")
            .unwrap_err()
            .into();
        assert_eq!(e.sqlstate, "22003");
        assert_eq!(
            q("SELECT pg_kind_of('2024-03-15 10:20:30+00:00')").unwrap(),
            text("timestamptz")
        );
        assert_eq!(
            q("SELECT pg_kind_of('1 day 02:00:00')").unwrap(),
            text("interval")
        );
        let e: crate::ShardError = q("SELECT pg_kind_of(42)").unwrap_err().into();
        assert_eq!(e.sqlstate, "42883");
    }
}
