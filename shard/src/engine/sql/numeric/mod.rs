//! Postgres' numeric type for expressions SQLite would compute in doubles: exact decimal
//! arithmetic with Postgres' result scales, numeric(p,s) coercion, and exact sum/avg.
//! A numeric travels between these functions as its text (`1.50`, `NaN`); the router
//! turns it back into a SQLite number wherever SQLite compares or stores it: the nearest
//! for a computed value (`pg_num_value`), an equal one or 22003 for a value written in
//! the statement (`pg_num_exact`). Knows values only: not which column or table they came from.

mod aggregates;
mod logarithm;
mod value;
mod variance;

use rusqlite::Connection;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};

use super::typecheck::postgres_error;
use aggregates::{Fold, NumericAggregate};
pub use value::{Numeric, average};
use value::{NumericError, SqliteNumber};
use variance::{Spread, VarianceAggregate};

const FLAGS: FunctionFlags = FunctionFlags::SQLITE_UTF8.union(FunctionFlags::SQLITE_DETERMINISTIC);

fn sql_error((sqlstate, message): NumericError) -> rusqlite::Error {
    postgres_error(sqlstate, &message)
}

/// A value as numeric input reads it; NULL is `None`.
pub(crate) fn argument(v: ValueRef<'_>) -> rusqlite::Result<Option<Numeric>> {
    Ok(match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(Numeric::integer(i)),
        ValueRef::Real(f) => Some(Numeric::from_f64(f)),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            Some(Numeric::parse(&String::from_utf8_lossy(t)).map_err(sql_error)?)
        }
    })
}

/// An aggregate's value as numeric input reads it: text that is no number can only have
/// come from a text column, and Postgres has no `name(text)` aggregate (42883).
pub(crate) fn aggregate_argument(v: ValueRef<'_>, name: &str) -> rusqlite::Result<Option<Numeric>> {
    argument(v)
        .map_err(|_| postgres_error("42883", &format!("function {name}(text) does not exist")))
}

/// The arguments as numerics, or `None` when one is NULL (the functions are strict).
fn arguments<const N: usize>(ctx: &Context<'_>) -> rusqlite::Result<Option<[Numeric; N]>> {
    let mut out = Vec::with_capacity(N);
    for i in 0..N {
        match argument(ctx.get_raw(i))? {
            Some(n) => out.push(n),
            None => return Ok(None),
        }
    }
    Ok(out.try_into().ok())
}

/// Registers a strict function of `N` numerics answering a numeric (as its text).
fn numeric_function<const N: usize>(
    c: &Connection,
    name: &str,
    f: impl Fn([Numeric; N]) -> Result<Numeric, NumericError> + Send + 'static,
) -> rusqlite::Result<()> {
    c.create_scalar_function(name, N as i32, FLAGS, move |ctx| {
        Ok(match arguments::<N>(ctx)? {
            Some(args) => Some(f(args).map_err(sql_error)?.to_string()),
            None => None,
        })
    })
}

/// An integer argument (a precision, a scale, a number of places).
fn integer_argument(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<i64>> {
    super::args::integer(ctx, i)
}

pub(crate) fn register(c: &Connection) -> rusqlite::Result<()> {
    numeric_function(c, "pg_numeric", |[x]| Ok(x))?;
    c.create_scalar_function("pg_numeric", 3, FLAGS, |ctx| {
        let (Some([x]), Some(precision), Some(scale)) = (
            arguments::<1>(ctx)?,
            integer_argument(ctx, 1)?,
            integer_argument(ctx, 2)?,
        ) else {
            return Ok(None);
        };
        Ok(Some(
            x.with_typmod(precision, scale)
                .map_err(sql_error)?
                .to_string(),
        ))
    })?;
    numeric_function(c, "pg_num_add", |[a, b]| Ok(a.add(&b)))?;
    numeric_function(c, "pg_num_sub", |[a, b]| Ok(a.sub(&b)))?;
    numeric_function(c, "pg_num_mul", |[a, b]| Ok(a.mul(&b)))?;
    numeric_function(c, "pg_num_div", |[a, b]| a.div(&b))?;
    numeric_function(c, "pg_num_mod", |[a, b]| a.rem(&b))?;
    numeric_function(c, "pg_num_neg", |[a]| Ok(a.negate()))?;
    numeric_function(c, "pg_num_log", |[base, x]| logarithm::log(&base, &x))?;
    for (name, truncate) in [("pg_num_round", false), ("pg_num_trunc", true)] {
        numeric_function(c, name, move |[a]| Ok(a.round(0, truncate)))?;
        c.create_scalar_function(name, 2, FLAGS, move |ctx| {
            let (Some([x]), Some(places)) = (arguments::<1>(ctx)?, integer_argument(ctx, 1)?)
            else {
                return Ok(None);
            };
            Ok(Some(x.round(places, truncate).to_string()))
        })?;
    }
    numeric_function(c, "pg_num_trim_scale", |[a]| Ok(a.normalized()))?;
    for (name, trimmed) in [("pg_num_scale", false), ("pg_num_min_scale", true)] {
        c.create_scalar_function(name, 1, FLAGS, move |ctx| {
            Ok(arguments::<1>(ctx)?.and_then(|[a]| {
                let a = if trimmed { a.normalized() } else { a };
                matches!(a, Numeric::Finite { .. }).then(|| i64::from(a.scale()))
            }))
        })?;
    }
    c.create_scalar_function("pg_num_factorial", 1, FLAGS, |ctx| {
        Ok(match integer_argument(ctx, 0)? {
            Some(n) => Some(Numeric::factorial(n).map_err(sql_error)?.to_string()),
            None => None,
        })
    })?;
    // gcd and lcm keep integers integers (gcd(int, int) is int); numerics answer text.
    for (name, lcm) in [("gcd", false), ("lcm", true)] {
        c.create_scalar_function(name, 2, FLAGS, move |ctx| {
            let integers = matches!(
                (ctx.get_raw(0), ctx.get_raw(1)),
                (ValueRef::Integer(_), ValueRef::Integer(_))
            );
            let Some([a, b]) = arguments::<2>(ctx)? else {
                return Ok(Value::Null);
            };
            let answer = a.gcd_or_lcm(&b, lcm).map_err(sql_error)?;
            Ok(match answer.to_sqlite_number() {
                Ok(SqliteNumber::Integer(i)) if integers => Value::Integer(i),
                _ if integers => {
                    return Err(postgres_error("22003", "bigint out of range"));
                }
                _ => Value::Text(answer.to_string()),
            })
        })?;
    }
    c.create_scalar_function("pg_num_cmp", 2, FLAGS, |ctx| {
        Ok(arguments::<2>(ctx)?.map(|[a, b]| a.compare(&b) as i64))
    })?;
    c.create_scalar_function("pg_num_value", 1, FLAGS, move |ctx| {
        Ok(match arguments::<1>(ctx)? {
            None => Value::Null,
            Some([x]) => x.nearest_sqlite_number().map_err(sql_error)?.into(),
        })
    })?;
    c.create_scalar_function("pg_num_exact", 1, FLAGS, move |ctx| {
        Ok(match arguments::<1>(ctx)? {
            None => Value::Null,
            Some([x]) => x.to_sqlite_number().map_err(sql_error)?.into(),
        })
    })?;
    for (name, fold) in [("pg_num_sum", Fold::Sum), ("pg_num_avg", Fold::Avg)] {
        c.create_window_function(name, 1, FLAGS, NumericAggregate(fold))?;
    }
    for (name, sample, root) in [
        ("pg_num_var_samp", true, false),
        ("pg_num_var_pop", false, false),
        ("pg_num_stddev_samp", true, true),
        ("pg_num_stddev_pop", false, true),
    ] {
        c.create_window_function(name, 1, FLAGS, VarianceAggregate(Spread { sample, root }))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;
    use rusqlite::types::Value;

    /// Each answer is PostgreSQL 15's for the same expression on numerics.
    const CASES: &str = "
        SELECT pg_num_add('1.00', '2.000') | 3.000
        SELECT pg_num_div(7.0, 2) | 3.5000000000000000
        SELECT pg_num_div('7.0', 2) | 3.5000000000000000
        SELECT pg_num_mul(19.99, 3) | 59.97
        SELECT pg_num_sub(0.3, '0.1') | 0.2
        SELECT pg_num_mod(-7, 3) | -1
        SELECT pg_numeric('1.005', 5, 2) | 1.01
        SELECT pg_numeric('12345.6', 4, 1) | ERROR 22003
        SELECT pg_numeric('1.5.5') | ERROR 22P02
        SELECT pg_numeric(NULL, 5, 2) | NULL
        SELECT pg_num_round('2.5') | 3
        SELECT pg_num_round(0.9, 2) | 0.90
        SELECT pg_num_trunc('-1.999', 1) | -1.9
        SELECT pg_num_cmp(pg_num_add(0.1, 0.2), 0.3) | 0
        SELECT pg_num_value('3.000') | 3
        SELECT pg_num_value('0.25') | 0.25
        SELECT pg_num_value('0.33333333333333333333') | 0.3333333333333333
        SELECT pg_num_exact('0.25') | 0.25
        SELECT pg_num_exact('123456789012345678901') | ERROR 22003
        SELECT pg_num_div(1, 0) | ERROR 22012
        SELECT pg_num_scale('1.2300') | 4
        SELECT pg_num_min_scale('8.4100') | 2
        SELECT pg_num_trim_scale('1.2300') | 1.23
        SELECT pg_num_factorial(5) | 120
        SELECT pg_num_factorial(-1) | ERROR 2201E
        SELECT gcd(12, 18) | 6
        SELECT lcm(4, 6) | 12
        SELECT gcd(-12, 0) | 12
        SELECT gcd('1.50', '0.25') | 0.25
        SELECT pg_num_sum(v) FROM t | 8.95
        SELECT pg_num_avg(v) FROM t | 1.4916666666666667
        SELECT pg_num_sum(i) FROM t | 21
        SELECT pg_num_avg(i) FROM t | 3.5000000000000000
        SELECT pg_num_sum(v) FROM t WHERE v IS NULL | NULL
        SELECT pg_num_sum('north') | ERROR 42883
        SELECT pg_num_stddev_pop('north') | ERROR 42883
        SELECT pg_num_var_samp(i) FROM t | 3.5000000000000000
        SELECT pg_num_var_pop(i) FROM t | 2.9166666666666667
        SELECT pg_num_stddev_samp(i) FROM t | 1.8708286933869707
        SELECT pg_num_stddev_pop(i) FROM t | 1.7078251276599331
        SELECT pg_num_var_samp(v) FROM t | 0.26841666666666666667
        SELECT pg_num_stddev_samp(v) FROM t | 0.51808943886810380210
        SELECT pg_num_var_samp(i) FROM t WHERE i = 1 | NULL
        SELECT pg_num_var_pop(i) FROM t WHERE i = 1 | 0
        SELECT group_concat(coalesce(s, 'NULL'), ' ') FROM (SELECT pg_num_var_samp(i) OVER (ORDER BY i ROWS 1 PRECEDING) AS s FROM t) | NULL 0.50000000000000000000 0.50000000000000000000 0.50000000000000000000 0.50000000000000000000 0.50000000000000000000
        SELECT group_concat(s, ' ') FROM (SELECT pg_num_avg(v) OVER (ORDER BY i ROWS 1 PRECEDING) AS s FROM t) | 1.00000000000000000000 0.95000000000000000000 1.5500000000000000 2.0000000000000000 1.8000000000000000 1.5250000000000000
    ";

    #[test]
    fn the_functions_answer_as_postgres_through_sqlite() {
        let c = Connection::open_in_memory().unwrap();
        super::register(&c).unwrap();
        super::super::functions::register(&c).unwrap();
        c.execute_batch(
            "CREATE TABLE t(i, v); INSERT INTO t VALUES (1, 1.00), (2, 0.9), (3, 2.2), \
             (4, 1.8), (5, 1.8), (6, 1.25);",
        )
        .unwrap();
        for line in CASES.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (sql, expected) = line.split_once(" | ").unwrap();
            let answer = match c.query_row(sql, [], |r| r.get::<_, Value>(0)) {
                Ok(Value::Null) => "NULL".to_string(),
                Ok(Value::Integer(i)) => i.to_string(),
                Ok(Value::Real(f)) => f.to_string(),
                Ok(Value::Text(t)) => t,
                Ok(Value::Blob(b)) => format!("{b:?}"),
                Err(e) => {
                    let error = crate::engine::sql::typecheck::error_of(&e.to_string());
                    format!("ERROR {}", error.map_or("?", |e| e.sqlstate))
                }
            };
            assert_eq!(answer, expected, "{sql}");
        }
    }
}
