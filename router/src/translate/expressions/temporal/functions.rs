//! Postgres' date and time functions by name (extract, date_part, date_trunc, age, make_*,
//! to_char, to_date, to_timestamp, justify_*, isfinite, AT TIME ZONE), as calls of the
//! shard's functions with the kind of each value they read.

use sqlparser::ast::{
    DateTimeField, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgOperator,
    FunctionArguments,
};

use super::super::super::sql::{args, call, number, string};
use super::{kind, temporal_type};
use crate::RouterError;
use crate::types::PgType;

/// `extract(field from x)`.
pub(in super::super) fn extract(field: &DateTimeField, x: &Expr) -> Expr {
    let name = field.to_string().to_ascii_lowercase();
    let name = name.trim_matches(|c| c == '\'' || c == '"');
    call("pg_extract", vec![string(name), kind(x), x.clone()])
}

/// `x AT TIME ZONE zone` and `timezone(zone, x)`.
pub(in super::super) fn at_time_zone(x: &Expr, zone: &Expr) -> Expr {
    call("pg_at_time_zone", vec![kind(x), x.clone(), zone.clone()])
}

/// A date or time function of Postgres' as the shard's; `None` for other functions, and
/// for `to_char` of a number.
pub(in super::super) fn rewrite_call(
    name: &str,
    f: &Function,
) -> Result<Option<Expr>, RouterError> {
    let a = args(f);
    let with_kind = |shard: &str, value: usize| {
        let mut out = vec![kind(&a[value])];
        out.extend(a.iter().cloned());
        Some(call(shard, out))
    };
    Ok(match (name, a.len()) {
        ("date_part", 2) => Some(call(
            "pg_date_part",
            vec![a[0].clone(), kind(&a[1]), a[1].clone()],
        )),
        ("date_trunc", 2 | 3) => {
            // A date is truncated as the timestamptz it casts to.
            let value = if temporal_type(&a[1]) == Some(PgType::Date) {
                call("pg_timestamptz", vec![a[1].clone()])
            } else {
                a[1].clone()
            };
            let mut out = vec![a[0].clone(), kind(&value), value];
            out.extend(a.get(2).cloned());
            Some(call("pg_date_trunc", out))
        }
        ("age", 1 | 2) => with_kind("pg_age", 0),
        ("isfinite", 1) => with_kind("pg_isfinite", 0),
        ("timezone", 2) => Some(at_time_zone(&a[1], &a[0])),
        ("to_char", 2) if temporal_type(&a[0]).is_some() || !is_number(&a[0]) => Some(call(
            "pg_to_char",
            vec![kind(&a[0]), a[0].clone(), a[1].clone()],
        )),
        ("make_date" | "make_time" | "make_timestamp" | "make_timestamptz", _)
        | ("to_date" | "to_timestamp", 1 | 2)
        | ("justify_days" | "justify_hours" | "justify_interval", 1) => {
            Some(call(&format!("pg_{name}"), a))
        }
        ("make_interval", _) => Some(make_interval(f)?),
        _ => None,
    })
}

fn is_number(e: &Expr) -> bool {
    matches!(
        crate::infer::inference::schemaless_type(e),
        Some(
            PgType::Int2
                | PgType::Int4
                | PgType::Int8
                | PgType::Numeric
                | PgType::Float4
                | PgType::Float8
        )
    )
}

/// `make_interval(years => 1, days => 3)`: every field, by name or position, zero when
/// not given.
fn make_interval(f: &Function) -> Result<Expr, RouterError> {
    const FIELDS: [&str; 7] = ["years", "months", "weeks", "days", "hours", "mins", "secs"];
    let mut values: Vec<Expr> = FIELDS.iter().map(|_| number(0)).collect();
    let FunctionArguments::List(list) = &f.args else {
        return Ok(call("pg_make_interval", values));
    };
    for (position, arg) in list.args.iter().enumerate() {
        let arrow = |operator: &FunctionArgOperator| {
            matches!(
                operator,
                FunctionArgOperator::RightArrow | FunctionArgOperator::Assignment
            )
        };
        // The PostgreSQL dialect parses `days => 10` with the name as an expression.
        let (name, value) = match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => (None, e),
            FunctionArg::Named {
                name,
                arg: FunctionArgExpr::Expr(e),
                operator,
            }
            | FunctionArg::ExprNamed {
                name: Expr::Identifier(name),
                arg: FunctionArgExpr::Expr(e),
                operator,
            } if arrow(operator) => (Some(name.value.to_ascii_lowercase()), e),
            _ => return Err(RouterError::unsupported("this make_interval argument")),
        };
        let slot = match name {
            None => position,
            Some(field) => FIELDS
                .iter()
                .position(|f| *f == field)
                .ok_or_else(|| RouterError {
                    sqlstate: "42883",
                    message: format!("function make_interval({field} => ...) does not exist"),
                })?,
        };
        let Some(target) = values.get_mut(slot) else {
            return Err(RouterError {
                sqlstate: "42883",
                message: "function make_interval has seven arguments".to_owned(),
            });
        };
        *target = value.clone();
    }
    Ok(call("pg_make_interval", values))
}

#[cfg(test)]
mod tests {
    use crate::test_support::sql;

    #[test]
    fn make_interval_takes_fields_by_name_or_position() {
        assert_eq!(
            sql("select make_interval(weeks => 2, secs => 6.5), make_interval(1, 2)"),
            "SELECT pg_make_interval(0, 0, 2, 0, 0, 0, 6.5) AS \"make_interval\", \
             pg_make_interval(1, 2, 0, 0, 0, 0, 0) AS \"make_interval\""
        );
        let unknown = crate::plan_in(
            "select make_interval(fortnights => 1)",
            &crate::plan::session::SessionContext::default(),
        );
        assert_eq!(unknown.err().map(|e| e.sqlstate), Some("42883"));
    }

    #[test]
    fn minus_an_interval_negates_it() {
        assert!(sql("select -interval '1 day'").starts_with("SELECT pg_interval_neg("));
    }
}
