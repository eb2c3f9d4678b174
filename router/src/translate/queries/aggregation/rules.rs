//! Postgres' rules on where aggregates and window functions may stand, which SQLite does
//! not share (it runs some of these, fails others with its own error): a window function
//! needs OVER (42809); no aggregate (42803) or window function (42P20) in WHERE; and in a
//! query with aggregates but no GROUP BY, no column outside them (42803). The last two
//! are checked on the outermost query only: in a subquery a name may be the outer
//! query's, which only the schema could tell.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, FunctionArguments, GroupByExpr, InTarget, SelectItem, SetExpr, Statement, Value,
    visit_expressions, visit_expressions_mut,
};

use super::super::super::sql::{function_name, is_aggregate};
use crate::RouterError;

const WINDOW_ONLY: &[&str] = &[
    "row_number",
    "rank",
    "dense_rank",
    "percent_rank",
    "cume_dist",
    "ntile",
    "lag",
    "lead",
    "first_value",
    "last_value",
    "nth_value",
];

/// SQL's value functions the parser reads as names, not columns.
const KEYWORD_VALUES: &[&str] = &[
    "current_schema",
    "current_catalog",
    "current_user",
    "session_user",
    "current_role",
    "user",
    "current_date",
    "current_time",
    "current_timestamp",
    "localtime",
    "localtimestamp",
];

fn error(sqlstate: &'static str, message: String) -> RouterError {
    RouterError { sqlstate, message }
}

/// `e` without its subqueries (their names may be their own tables') and, when
/// `skip_aggregates`, without its aggregate calls (whose arguments may name any column).
fn pruned(e: &Expr, skip_aggregates: bool) -> Expr {
    let mut e = e.clone();
    let _ = visit_expressions_mut(&mut e, |inner| {
        match inner {
            Expr::Subquery(_) | Expr::Exists { .. } => *inner = Expr::value(Value::Null),
            Expr::In {
                expr,
                target: InTarget::Subquery(_),
                ..
            } => *inner = expr.as_ref().clone(),
            Expr::Function(f) if matches!(f.args, FunctionArguments::Subquery(_)) => {
                *inner = Expr::value(Value::Null)
            }
            Expr::Function(f) if skip_aggregates && is_aggregate(f) => {
                *inner = Expr::value(Value::Null)
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    e
}

/// The first error `found` answers for an expression of `e` (pruned).
fn first_in(
    e: &Expr,
    skip_aggregates: bool,
    found: impl Fn(&Expr) -> Option<RouterError>,
) -> Option<RouterError> {
    let flow = visit_expressions(&pruned(e, skip_aggregates), |inner| match found(inner) {
        Some(error) => ControlFlow::Break(error),
        None => ControlFlow::Continue(()),
    });
    match flow {
        ControlFlow::Break(error) => Some(error),
        ControlFlow::Continue(()) => None,
    }
}

/// Whether `e` calls an aggregate of its own query (not of a subquery's).
pub(in super::super) fn holds_aggregate(e: &Expr) -> bool {
    visit_expressions(&pruned(e, false), |inner| match inner {
        Expr::Function(f) if is_aggregate(f) => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

fn ungrouped(name: String) -> RouterError {
    error(
        "42803",
        format!(
            "column \"{name}\" must appear in the GROUP BY clause or be used in an aggregate function"
        ),
    )
}

/// A column named outside aggregates.
fn column_outside_aggregates(e: &Expr) -> Option<RouterError> {
    first_in(e, true, |inner| match inner {
        Expr::Identifier(i)
            if i.quote_style.is_some()
                || !KEYWORD_VALUES.contains(&i.value.to_ascii_lowercase().as_str()) =>
        {
            Some(ungrouped(i.value.clone()))
        }
        Expr::CompoundIdentifier(parts) => Some(ungrouped(
            parts
                .iter()
                .map(|p| p.value.as_str())
                .collect::<Vec<_>>()
                .join("."),
        )),
        _ => None,
    })
}

pub(super) fn check(ast: &Statement) -> Result<(), RouterError> {
    let window_without_over = visit_expressions(ast, |e| match e {
        Expr::Function(f)
            if f.over.is_none()
                && f.within_group.is_empty()
                && function_name(f).is_some_and(|n| WINDOW_ONLY.contains(&n.as_str())) =>
        {
            ControlFlow::Break(error(
                "42809",
                format!(
                    "window function {} requires an OVER clause",
                    function_name(f).unwrap_or_default()
                ),
            ))
        }
        _ => ControlFlow::Continue(()),
    });
    if let ControlFlow::Break(e) = window_without_over {
        return Err(e);
    }
    let Statement::Query(query) = ast else {
        return Ok(());
    };
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Ok(());
    };
    if let Some(condition) = &select.selection
        && let Some(e) = first_in(condition, false, |e| match e {
            Expr::Function(f) if f.over.is_some() => Some(error(
                "42P20",
                "window functions are not allowed in WHERE".to_owned(),
            )),
            Expr::Function(f) if is_aggregate(f) => Some(error(
                "42803",
                "aggregate functions are not allowed in WHERE".to_owned(),
            )),
            _ => None,
        })
    {
        return Err(e);
    }
    let ungrouped_query =
        matches!(&select.group_by, GroupByExpr::Expressions(keys, _) if keys.is_empty());
    let items: Vec<Option<&Expr>> = select
        .projection
        .iter()
        .map(|item| match item {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => Some(e),
            _ => None,
        })
        .collect();
    let aggregated = select.having.is_some() || items.iter().flatten().any(|e| holds_aggregate(e));
    if !ungrouped_query || !aggregated {
        return Ok(());
    }
    for item in &items {
        let Some(e) = item else {
            return Err(ungrouped("*".to_owned()));
        };
        if let Some(error) = column_outside_aggregates(e) {
            return Err(error);
        }
    }
    if let Some(e) = select.having.as_ref().and_then(column_outside_aggregates) {
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    fn sqlstate(text: &str) -> &'static str {
        crate::plan(text).map_or_else(|e| e.sqlstate, |_| "ok")
    }

    #[test]
    fn aggregates_and_window_functions_stand_where_postgres_allows_them() {
        assert_eq!(sqlstate("select rank() from t"), "42809");
        assert_eq!(
            sqlstate("select a from t where row_number() over () = 1"),
            "42P20"
        );
        assert_eq!(sqlstate("select a from t where sum(a) > 1"), "42803");
        assert_eq!(sqlstate("select a, count(*) from t"), "42803");
        assert_eq!(sqlstate("select *, count(*) from t"), "42803");
        assert_eq!(sqlstate("select 1 from t having a > 1"), "42803");
        assert_eq!(sqlstate("select sum(a) over (), count(*) from t"), "42803");
        assert_eq!(
            sqlstate("select count(a), current_user, 1 + max(b) from t"),
            "ok"
        );
        assert_eq!(sqlstate("select a, count(*) from t group by b"), "ok");
        assert_eq!(sqlstate("select a, count(*) over () from t"), "ok");
        assert_eq!(
            sqlstate("select (select count(*) from u where u.b = a) from t"),
            "ok"
        );
        assert_eq!(
            sqlstate("select a from t where a in (select max(b) from u)"),
            "ok"
        );
        assert_eq!(
            sqlstate("select rank(1) within group (order by a) from t"),
            "ok"
        );
    }
}
