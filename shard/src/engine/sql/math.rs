//! Postgres' mathematical functions where SQLite's differ or are missing: numeric rounding
//! half away from zero on the decimal digits (`pg_round`, `pg_trunc`), float rounding half
//! to even (`pg_rint`), div, width_bucket, greatest/least that skip NULLs, sqrt, cbrt,
//! exp, ln, log, power, acos, asin with Postgres' errors instead of NULL or NaN, and
//! ceil, floor, sign, pi, degrees, radians and trigonometry (SQLite's math functions are
//! not compiled into the bundled library); float input for casts (`pg_float4`, `pg_float8`).

use std::cmp::Ordering;

use rusqlite::Connection;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value as SqlValue, ValueRef};

use super::args::{float, integer};
use super::typecheck::postgres_error;

/// Adds one in the last place of a run of decimal digits, carrying (`99` becomes `100`).
pub(crate) fn add_one_in_last_place(digits: &mut Vec<u8>) {
    for i in (0..digits.len()).rev() {
        if digits[i] == b'9' {
            digits[i] = b'0';
        } else {
            digits[i] += 1;
            return;
        }
    }
    digits.insert(0, b'1');
}

/// `x` rounded (or cut, when `truncate`) to `places` decimal digits as Postgres' numeric
/// does: on the shortest decimal text that reads back as `x`, so 2.675 rounds to 2.68.
fn decimal_round(x: f64, places: i64, truncate: bool) -> f64 {
    if !x.is_finite() {
        return x;
    }
    // Rust's Display is the shortest text that reads back as the value, without exponent.
    let text = x.abs().to_string();
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let digits: Vec<u8> = whole.bytes().chain(fraction.bytes()).collect();
    let Ok(keep) = usize::try_from(whole.len() as i64 + places) else {
        return 0.0;
    };
    let mut kept: Vec<u8> = digits.iter().copied().take(keep).collect();
    kept.resize(keep, b'0');
    if !truncate && digits.get(keep).is_some_and(|d| *d >= b'5') {
        add_one_in_last_place(&mut kept);
    }
    if kept.is_empty() {
        return 0.0;
    }
    let magnitude: f64 = format!("{}e{}", String::from_utf8_lossy(&kept), -places)
        .parse()
        .unwrap_or(0.0);
    // Numeric has no negative zero.
    if magnitude == 0.0 {
        0.0
    } else {
        magnitude.copysign(x)
    }
}

fn round_or_trunc(ctx: &Context<'_>, truncate: bool) -> rusqlite::Result<Option<SqlValue>> {
    let places = if ctx.len() > 1 {
        match integer(ctx, 1)? {
            Some(p) => p,
            None => return Ok(None),
        }
    } else {
        0
    };
    Ok(match ctx.get_raw(0) {
        ValueRef::Null => None,
        ValueRef::Integer(i) if places >= 0 => Some(SqlValue::Integer(i)),
        _ => float(ctx, 0)?.map(|x| SqlValue::Real(decimal_round(x, places, truncate))),
    })
}

/// Postgres' error when a float result left the range of double precision.
fn finite(x: f64) -> rusqlite::Result<f64> {
    if x.is_infinite() {
        Err(postgres_error("22003", "value out of range: overflow"))
    } else {
        Ok(x)
    }
}

fn logarithm(x: f64, log: fn(f64) -> f64) -> rusqlite::Result<f64> {
    if x == 0.0 {
        Err(postgres_error("2201E", "cannot take logarithm of zero"))
    } else if x < 0.0 {
        Err(postgres_error(
            "2201E",
            "cannot take logarithm of a negative number",
        ))
    } else {
        Ok(log(x))
    }
}

fn power(base: f64, exponent: f64) -> rusqlite::Result<f64> {
    if base == 0.0 && exponent < 0.0 {
        return Err(postgres_error(
            "2201F",
            "zero raised to a negative power is undefined",
        ));
    }
    if base < 0.0 && exponent.fract() != 0.0 {
        return Err(postgres_error(
            "2201F",
            "a negative number raised to a non-integer power yields a complex result",
        ));
    }
    finite(base.powf(exponent))
}

fn width_bucket(operand: f64, low: f64, high: f64, count: i64) -> rusqlite::Result<i64> {
    if count <= 0 {
        return Err(postgres_error("2201G", "count must be greater than zero"));
    }
    if low == high {
        return Err(postgres_error(
            "2201G",
            "lower bound cannot equal upper bound",
        ));
    }
    let n = count as f64;
    Ok(if low < high {
        if operand < low {
            0
        } else if operand >= high {
            count + 1
        } else {
            (n * (operand - low) / (high - low)).floor() as i64 + 1
        }
    } else if operand > low {
        0
    } else if operand <= high {
        count + 1
    } else {
        (n * (low - operand) / (low - high)).floor() as i64 + 1
    })
}

/// SQLite's ordering of two non-NULL values: numbers by value, below text, below blobs.
fn compare(a: &ValueRef<'_>, b: &ValueRef<'_>) -> Ordering {
    let number = |v: &ValueRef<'_>| match v {
        ValueRef::Integer(i) => Some(*i as f64),
        ValueRef::Real(f) => Some(*f),
        _ => None,
    };
    match (a, b) {
        (ValueRef::Integer(x), ValueRef::Integer(y)) => x.cmp(y),
        _ => match (number(a), number(b)) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => match (a, b) {
                (ValueRef::Text(x), ValueRef::Text(y)) | (ValueRef::Blob(x), ValueRef::Blob(y)) => {
                    x.cmp(y)
                }
                (ValueRef::Text(_), _) => Ordering::Less,
                _ => Ordering::Greater,
            },
        },
    }
}

/// greatest / least: the extreme of the non-NULL arguments; NULL only when all are.
fn extreme(ctx: &Context<'_>, wanted: Ordering) -> rusqlite::Result<SqlValue> {
    let mut best: Option<usize> = None;
    for i in 0..ctx.len() {
        let v = ctx.get_raw(i);
        if v != ValueRef::Null && best.is_none_or(|b| compare(&v, &ctx.get_raw(b)) == wanted) {
            best = Some(i);
        }
    }
    best.map_or(Ok(SqlValue::Null), |i| ctx.get(i))
}

type FloatFunction = fn(f64) -> rusqlite::Result<f64>;

/// Postgres' float input (float8in / float4in) of a cast's value: numbers as they are,
/// text read with Infinity and inf in any case; a finite text beyond the type's range, or
/// a nonzero one that would read as zero, is 22003. SQLite stores a NaN as NULL, so NaN is
/// refused rather than answered wrongly.
fn float_input(value: ValueRef<'_>, single: bool) -> rusqlite::Result<Option<f64>> {
    let type_name = if single { "real" } else { "double precision" };
    let x = match value {
        ValueRef::Null => return Ok(None),
        ValueRef::Integer(n) => n as f64,
        ValueRef::Real(f) => f,
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            let text = String::from_utf8_lossy(t);
            let trimmed = text.trim();
            let x: f64 = trimmed.parse().map_err(|_| {
                postgres_error(
                    "22P02",
                    &format!("invalid input syntax for type {type_name}: \"{text}\""),
                )
            })?;
            let spelled_infinite = trimmed
                .trim_start_matches(['+', '-'])
                .starts_with(['i', 'I']);
            let narrowed = if single { x as f32 as f64 } else { x };
            let has_nonzero_digit = trimmed
                .split(['e', 'E'])
                .next()
                .is_some_and(|mantissa| mantissa.bytes().any(|b| matches!(b, b'1'..=b'9')));
            if (narrowed.is_infinite() && !spelled_infinite)
                || (narrowed == 0.0 && has_nonzero_digit)
            {
                return Err(postgres_error(
                    "22003",
                    &format!("\"{trimmed}\" is out of range for type {type_name}"),
                ));
            }
            x
        }
    };
    if x.is_nan() {
        return Err(postgres_error(
            "0A000",
            &format!("NaN {type_name} values are not supported by litescale"),
        ));
    }
    Ok(Some(x))
}

pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    for arity in [1, 2] {
        conn.create_scalar_function("pg_round", arity, flags, |ctx| round_or_trunc(ctx, false))?;
        conn.create_scalar_function("pg_trunc", arity, flags, |ctx| round_or_trunc(ctx, true))?;
    }
    // Casts to the integer types: a fraction rounds half away from zero (numeric's rule;
    // the router rounds a double with pg_rint first), text must hold an integer, and the
    // type's range holds.
    for (name, type_name, bits) in [
        ("pg_int2", "smallint", 16),
        ("pg_int4", "integer", 32),
        ("pg_int8", "bigint", 64),
    ] {
        conn.create_scalar_function(name, 1, flags, move |ctx| {
            let Some(n) = integer(ctx, 0)? else {
                return Ok(None);
            };
            if bits < 64 && n.unsigned_abs() > (1u64 << (bits - 1)) - u64::from(n >= 0) {
                return Err(postgres_error(
                    "22003",
                    &match ctx.get_raw(0) {
                        ValueRef::Text(t) => format!(
                            "value \"{}\" is out of range for type {type_name}",
                            String::from_utf8_lossy(t)
                        ),
                        _ => format!("{type_name} out of range"),
                    },
                ));
            }
            Ok(Some(n))
        })?;
    }
    for (name, single) in [("pg_float4", true), ("pg_float8", false)] {
        conn.create_scalar_function(name, 1, flags, move |ctx| {
            float_input(ctx.get_raw(0), single)
        })?;
    }
    // round(double precision) is rint: half to even.
    conn.create_scalar_function("pg_rint", 1, flags, |ctx| {
        Ok(float(ctx, 0)?.map(f64::round_ties_even))
    })?;
    // SQLite's own math functions are not compiled into the bundled library.
    for (name, f) in [
        ("ceil", f64::ceil as fn(f64) -> f64),
        ("ceiling", f64::ceil),
        ("floor", f64::floor),
    ] {
        conn.create_scalar_function(name, 1, flags, move |ctx| {
            Ok(match ctx.get_raw(0) {
                ValueRef::Integer(i) => Some(SqlValue::Integer(i)),
                _ => float(ctx, 0)?.map(|x| SqlValue::Real(f(x))),
            })
        })?;
    }
    conn.create_scalar_function("pi", 0, flags, |_| Ok(std::f64::consts::PI))?;
    conn.create_scalar_function("atan2", 2, flags, |ctx| {
        let (Some(y), Some(x)) = (float(ctx, 0)?, float(ctx, 1)?) else {
            return Ok(None);
        };
        Ok(Some(y.atan2(x)))
    })?;
    let unary: [(&str, FloatFunction); 19] = [
        ("sign", |x| Ok(if x == 0.0 { 0.0 } else { x.signum() })),
        ("degrees", |x| Ok(x.to_degrees())),
        ("radians", |x| Ok(x.to_radians())),
        ("sin", |x| Ok(x.sin())),
        ("cos", |x| Ok(x.cos())),
        ("tan", |x| Ok(x.tan())),
        ("cot", |x| Ok(1.0 / x.tan())),
        ("atan", |x| Ok(x.atan())),
        ("sinh", |x| Ok(x.sinh())),
        ("cosh", |x| Ok(x.cosh())),
        ("tanh", |x| Ok(x.tanh())),
        ("sqrt", |x| {
            if x < 0.0 {
                Err(postgres_error(
                    "2201F",
                    "cannot take square root of a negative number",
                ))
            } else {
                Ok(x.sqrt())
            }
        }),
        ("cbrt", |x| Ok(x.cbrt())),
        ("exp", |x| finite(x.exp())),
        ("ln", |x| logarithm(x, f64::ln)),
        ("log", |x| logarithm(x, f64::log10)),
        ("log10", |x| logarithm(x, f64::log10)),
        ("acos", |x| {
            if (-1.0..=1.0).contains(&x) {
                Ok(x.acos())
            } else {
                Err(postgres_error("22003", "input is out of range"))
            }
        }),
        ("asin", |x| {
            if (-1.0..=1.0).contains(&x) {
                Ok(x.asin())
            } else {
                Err(postgres_error("22003", "input is out of range"))
            }
        }),
    ];
    for (name, f) in unary {
        conn.create_scalar_function(name, 1, flags, move |ctx| float(ctx, 0)?.map(f).transpose())?;
    }
    for name in ["power", "pow"] {
        conn.create_scalar_function(name, 2, flags, |ctx| {
            let (Some(b), Some(e)) = (float(ctx, 0)?, float(ctx, 1)?) else {
                return Ok(None);
            };
            power(b, e).map(Some)
        })?;
    }
    // div(a, b): the integer quotient, truncated toward zero.
    conn.create_scalar_function("div", 2, flags, |ctx| {
        let (Some(a), Some(b)) = (float(ctx, 0)?, float(ctx, 1)?) else {
            return Ok(None);
        };
        if b == 0.0 {
            return Err(postgres_error("22012", "division by zero"));
        }
        Ok(Some(match (ctx.get_raw(0), ctx.get_raw(1)) {
            (ValueRef::Integer(x), ValueRef::Integer(y)) => SqlValue::Integer(x.wrapping_div(y)),
            _ => SqlValue::Real((a / b).trunc()),
        }))
    })?;
    conn.create_scalar_function("width_bucket", 4, flags, |ctx| {
        let (Some(x), Some(lo), Some(hi), Some(n)) = (
            float(ctx, 0)?,
            float(ctx, 1)?,
            float(ctx, 2)?,
            integer(ctx, 3)?,
        ) else {
            return Ok(None);
        };
        width_bucket(x, lo, hi, n).map(Some)
    })?;
    conn.create_scalar_function("pg_greatest", -1, flags, |ctx| {
        extreme(ctx, Ordering::Greater)
    })?;
    conn.create_scalar_function("pg_least", -1, flags, |ctx| extreme(ctx, Ordering::Less))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_postgres_numeric_and_float_rounding() {
        assert_eq!(decimal_round(2.5, 0, false), 3.0);
        assert_eq!(decimal_round(-2.5, 0, false), -3.0);
        assert_eq!(decimal_round(2.675, 2, false), 2.68);
        assert_eq!(decimal_round(2.345, 2, false), 2.35);
        assert_eq!(decimal_round(1234.5, -2, false), 1200.0);
        assert_eq!(decimal_round(2.789, 1, true), 2.7);
        assert_eq!(decimal_round(-2.7, 0, true), -2.0);
        assert_eq!(decimal_round(0.0004, 2, false), 0.0);
        assert_eq!(decimal_round(9.99, 1, false), 10.0);
        assert_eq!(2.5_f64.round_ties_even(), 2.0);
    }

    #[test]
    fn math_functions_answer_as_postgres_15() {
        let c = Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        let value = |sql: &str| -> SqlValue {
            c.query_row(&format!("SELECT {sql}"), [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(value("pg_round(5)"), SqlValue::Integer(5));
        assert_eq!(value("pg_rint(3.5)"), SqlValue::Real(4.0));
        assert_eq!(value("pg_int4(-4.5)"), SqlValue::Integer(-5));
        assert_eq!(value("pg_int2(' -32768 ')"), SqlValue::Integer(-32768));
        assert_eq!(value("pg_int4(2147483647)"), SqlValue::Integer(2147483647));
        let error = |sql: &str| {
            let e = c.query_row(&format!("SELECT {sql}"), [], |r| r.get::<_, SqlValue>(0));
            let e = super::super::typecheck::error_of(&e.unwrap_err().to_string()).unwrap();
            (e.sqlstate, e.message)
        };
        assert_eq!(error("pg_int2(32768)").0, "22003");
        assert_eq!(error("pg_int4(-2147483649)").0, "22003");
        assert_eq!(error("pg_int4('4.2')").0, "22P02");
        assert_eq!(
            error("pg_int8('9223372036854775808')"),
            (
                "22003",
                "value \"9223372036854775808\" is out of range for type bigint".into()
            )
        );
        assert_eq!(
            value("pg_float8(' -Infinity ')"),
            SqlValue::Real(f64::NEG_INFINITY)
        );
        assert_eq!(value("pg_float8('inf')"), SqlValue::Real(f64::INFINITY));
        assert_eq!(value("pg_float8('1.5e3')"), SqlValue::Real(1500.0));
        assert_eq!(value("pg_float8(2)"), SqlValue::Real(2.0));
        assert_eq!(value("pg_float8('0.0e-400')"), SqlValue::Real(0.0));
        assert_eq!(error("pg_float8('1e400')").0, "22003");
        assert_eq!(error("pg_float8('1e-400')").0, "22003");
        assert_eq!(error("pg_float4('1e39')").0, "22003");
        assert_eq!(error("pg_float8('NaN')").0, "0A000");
        assert_eq!(error("pg_float8('abc')").0, "22P02");
        assert_eq!(value("div(-7, 2)"), SqlValue::Integer(-3));
        assert_eq!(value("width_bucket(5, 0, 10, 3)"), SqlValue::Integer(2));
        assert_eq!(value("width_bucket(10, 0, 10, 3)"), SqlValue::Integer(4));
        assert_eq!(value("pg_greatest(1, NULL, 3)"), SqlValue::Integer(3));
        assert_eq!(
            value("pg_least('b', 'a', NULL)"),
            SqlValue::Text("a".into())
        );
        assert_eq!(value("pg_greatest(NULL, NULL)"), SqlValue::Null);
        assert_eq!(value("power(2, 3)"), SqlValue::Real(8.0));
        assert_eq!(value("log(100)"), SqlValue::Real(2.0));
        assert_eq!(value("ceil(-1.5)"), SqlValue::Real(-1.0));
        assert_eq!(value("floor(7)"), SqlValue::Integer(7));
        assert_eq!(value("sign(-3)"), SqlValue::Real(-1.0));
        for (sql, sqlstate) in [
            ("sqrt(-1)", "2201F"),
            ("ln(0)", "2201E"),
            ("ln(-1)", "2201E"),
            ("log(0)", "2201E"),
            ("power(0, -1)", "2201F"),
            ("power(-8, 0.5)", "2201F"),
            ("acos(2)", "22003"),
            ("exp(1000)", "22003"),
            ("div(1, 0)", "22012"),
            ("width_bucket(1, 0, 0, 3)", "2201G"),
            ("width_bucket(1, 0, 10, 0)", "2201G"),
        ] {
            let e: crate::ShardError = c
                .query_row(&format!("SELECT {sql}"), [], |r| r.get::<_, SqlValue>(0))
                .unwrap_err()
                .into();
            assert_eq!(e.sqlstate, sqlstate, "{sql}");
        }
    }
}
