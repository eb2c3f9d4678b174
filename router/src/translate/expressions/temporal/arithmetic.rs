//! Operators on dates, times and intervals, as Postgres resolves them by type: `date + 1`
//! is the next day (SQLite would add to the year), `timestamp - timestamp` an interval,
//! intervals compare by length (`1 day = 24 hours`), and their aggregates add lengths.

use sqlparser::ast::{BinaryOperator as B, Expr, UnaryOperator};

use super::super::super::sql::call;
use super::{kind, kind_name, temporal_type};
use crate::RouterError;
use crate::infer::inference::schemaless_type;
use crate::types::PgType::{self, *};
use crate::types::format_type;

fn is_integer(t: Option<PgType>) -> bool {
    matches!(t, Some(Int2 | Int4 | Int8))
}

fn is_number(t: Option<PgType>) -> bool {
    matches!(t, Some(Int2 | Int4 | Int8 | Numeric | Float4 | Float8))
}

fn negated(e: &Expr) -> Expr {
    Expr::UnaryOp {
        op: UnaryOperator::Minus,
        expr: Box::new(Expr::Nested(Box::new(e.clone()))),
    }
}

/// `left op right` where the statement settles that a side is a date, time or interval;
/// `None` when neither is.
pub(in super::super) fn binary(
    left: &Expr,
    op: &B,
    right: &Expr,
) -> Result<Option<Expr>, RouterError> {
    let (l, r) = (temporal_type(left), temporal_type(right));
    let (ls, rs) = (schemaless_type(left), schemaless_type(right));
    // A numeric (not an integer) meets no date, time or interval in ± (`salary -
    // avg(salary)`): numeric's arithmetic takes it.
    let unsettled = (ls.is_none() || rs.is_none()) && ls != Some(Numeric) && rs != Some(Numeric);
    if matches!(op, B::Plus | B::Minus)
        && unsettled
        && [ls, l, rs, r]
            .iter()
            .all(|t| t.is_none() || is_number(*t) || kind_name(t.unwrap_or(Text)).is_some())
    {
        return Ok(Some(dispatched(left, op, right)));
    }
    if l.is_none() && r.is_none() {
        return Ok(None);
    }
    let pair = |f: &str, a: &Expr, b: &Expr| Some(call(f, vec![a.clone(), b.clone()]));
    let shifted = |f: &str, value: &Expr, interval: &Expr| {
        Some(call(f, vec![kind(value), value.clone(), interval.clone()]))
    };
    Ok(match (op, l, r) {
        (B::Plus, Some(Date), _) if is_integer(rs) => pair("pg_date_add_days", left, right),
        (B::Plus, _, Some(Date)) if is_integer(ls) => pair("pg_date_add_days", right, left),
        (B::Minus, Some(Date), _) if is_integer(rs) => {
            pair("pg_date_add_days", left, &negated(right))
        }
        (B::Minus, Some(Date), Some(Date)) => pair("pg_date_diff", left, right),
        (B::Plus, Some(Date), Some(Time)) => pair("pg_date_add_time", left, right),
        (B::Plus, Some(Time), Some(Date)) => pair("pg_date_add_time", right, left),
        (B::Plus | B::Minus, Some(Interval), Some(Interval)) => {
            let f = if *op == B::Plus {
                "pg_interval_add"
            } else {
                "pg_interval_sub"
            };
            pair(f, left, right)
        }
        (B::Plus, Some(_), Some(Interval)) => shifted("pg_add_interval", left, right),
        (B::Plus, Some(Interval), Some(_)) => shifted("pg_add_interval", right, left),
        (B::Minus, Some(_), Some(Interval)) => shifted("pg_sub_interval", left, right),
        (B::Minus, Some(Time), Some(Time)) => pair("pg_time_diff", left, right),
        (B::Minus, Some(a), Some(b)) if a != Interval && b != Interval => pair(
            "pg_timestamp_diff",
            &as_timestamp(left, a),
            &as_timestamp(right, b),
        ),
        // A side the statement does not type (an integer column, a parameter) is the
        // number: the typed pass has refused the other types a column may have (42883).
        // A time scales as the interval it casts to.
        (B::Multiply, Some(Interval | Time), _) if is_number(rs) || rs.is_none() => {
            pair("pg_interval_mul", &as_interval(left, l), right)
        }
        (B::Multiply, _, Some(Interval | Time)) if is_number(ls) || ls.is_none() => {
            pair("pg_interval_mul", &as_interval(right, r), left)
        }
        (B::Divide, Some(Interval | Time), _) if is_number(rs) || rs.is_none() => {
            pair("pg_interval_div", &as_interval(left, l), right)
        }
        (B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq, _, _) => {
            compared(left, op, right, l, r)
        }
        (B::Plus | B::Minus, _, _) => {
            return Err(RouterError {
                sqlstate: "42883",
                message: format!(
                    "operator does not exist: {} {op} {}",
                    type_name(ls),
                    type_name(rs)
                ),
            });
        }
        _ => None,
    })
}

fn type_name(t: Option<PgType>) -> String {
    t.and_then(|t| format_type(t.oid(), -1))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// `a ± b` where the statement does not settle a side's type (a column, a parameter): the
/// shard adds as the values it meets call for (a date and days, a timestamp and an
/// interval, numbers with Postgres' overflow error).
fn dispatched(left: &Expr, op: &B, right: &Expr) -> Expr {
    let f = if *op == B::Plus {
        "pg_plus"
    } else {
        "pg_minus"
    };
    call(f, vec![left.clone(), right.clone()])
}

/// A time read as the interval it casts to (its text reads as one).
fn as_interval(e: &Expr, t: Option<PgType>) -> Expr {
    if t == Some(Time) {
        call("pg_interval", vec![e.clone()])
    } else {
        e.clone()
    }
}

/// A date read as the timestamp it casts to, where it meets a timestamp.
fn as_timestamp(e: &Expr, t: PgType) -> Expr {
    if t == Date {
        call("pg_timestamp", vec![e.clone()])
    } else {
        e.clone()
    }
}

/// A comparison with a date, time or interval on a side: intervals by their length, a date
/// against a timestamp as the timestamp it casts to; `None` when the stored texts compare
/// as Postgres compares the values.
fn compared(
    left: &Expr,
    op: &B,
    right: &Expr,
    l: Option<PgType>,
    r: Option<PgType>,
) -> Option<Expr> {
    let both = |a: Expr, b: Expr| Expr::BinaryOp {
        left: Box::new(a),
        op: op.clone(),
        right: Box::new(b),
    };
    if l == Some(Interval) || r == Some(Interval) {
        // A side the statement does not settle (text, a column) is read as an interval.
        let key = |e: &Expr, t: Option<PgType>| {
            let interval = if t == Some(Interval) {
                e.clone()
            } else {
                call("pg_interval", vec![e.clone()])
            };
            call("pg_interval_key", vec![interval])
        };
        return Some(both(key(left, l), key(right, r)));
    }
    match (l?, r?) {
        (a, b) if a == b => None,
        (Timestamptz, _) | (_, Timestamptz) => Some(both(
            call("pg_timestamptz", vec![left.clone()]),
            call("pg_timestamptz", vec![right.clone()]),
        )),
        (a, b) => Some(both(as_timestamp(left, a), as_timestamp(right, b))),
    }
}

/// `sum`, `avg`, `min` and `max` of intervals add and compare lengths; `None` for other
/// aggregates or arguments.
/// `-x` of an interval, which SQLite would read as a number.
pub(in super::super) fn negate(x: &Expr) -> Option<Expr> {
    (schemaless_type(x) == Some(PgType::Interval)).then(|| call("pg_interval_neg", vec![x.clone()]))
}

pub(in super::super) fn aggregate(name: &str, args: &[Expr]) -> Option<&'static str> {
    let [arg] = args else { return None };
    if temporal_type(arg).and_then(kind_name) != Some("interval") {
        return None;
    }
    Some(match name {
        "sum" => "pg_interval_sum",
        "avg" => "pg_interval_avg",
        "min" => "pg_interval_min",
        "max" => "pg_interval_max",
        _ => return None,
    })
}
