//! `OFFSET n ROWS` and `FETCH FIRST|NEXT n ROWS ONLY`, which SQLite spells `LIMIT n OFFSET
//! m` (and an OFFSET needs a LIMIT there: `LIMIT -1`). `FETCH ... WITH TIES` keeps the
//! rows ranked within the first n by `rank() OVER (ORDER BY ...)`; with an OFFSET or
//! PERCENT (not Postgres) it is refused.

use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, LimitClause, Offset, OffsetRows, OrderByKind, Query, UnaryOperator,
};

use super::super::sql::number;
use super::window_filter::{PickingWindow, keep_picked_rows};
use crate::RouterError;

/// Rewrites every FETCH / OFFSET ROWS of a statement into LIMIT / OFFSET.
pub(super) struct FetchAsLimit;

impl sqlparser::ast::VisitorMut for FetchAsLimit {
    type Break = RouterError;

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<RouterError> {
        if let Err(e) = refuse_negative_counts(query) {
            return ControlFlow::Break(e);
        }
        match fetch_as_limit(query) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => ControlFlow::Break(e),
        }
    }
}

/// Postgres refuses a negative LIMIT (FETCH) or OFFSET, where SQLite reads a negative
/// LIMIT as none and a negative OFFSET as 0. A negative number written in the query is
/// refused here, before `LIMIT -1` comes to stand for "no limit".
fn refuse_negative_counts(query: &Query) -> Result<(), RouterError> {
    let negative = |e: &Expr| match e {
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => {
            matches!(expr.as_ref(), Expr::Value(v) if matches!(&v.value, sqlparser::ast::Value::Number(n, _) if n.parse::<f64>().is_ok_and(|n| n > 0.0)))
        }
        _ => false,
    };
    let (limit, offset) = match &query.limit_clause {
        Some(LimitClause::LimitOffset { limit, offset, .. }) => {
            (limit.as_ref(), offset.as_ref().map(|o| &o.value))
        }
        Some(LimitClause::OffsetCommaLimit { offset, limit }) => (Some(limit), Some(offset)),
        None => (None, None),
    };
    let fetched = query.fetch.as_ref().and_then(|f| f.quantity.as_ref());
    if limit.into_iter().chain(fetched).any(negative) {
        return Err(RouterError {
            sqlstate: "2201W",
            message: "LIMIT must not be negative".to_owned(),
        });
    }
    if offset.is_some_and(negative) {
        return Err(RouterError {
            sqlstate: "2201X",
            message: "OFFSET must not be negative".to_owned(),
        });
    }
    Ok(())
}

/// `query`'s FETCH and OFFSET in SQLite's LIMIT form (also used by the partition planner,
/// which merges LIMIT and OFFSET but knows no FETCH).
pub(crate) fn fetch_as_limit(query: &mut Query) -> Result<(), RouterError> {
    if let Some(fetch) = query.fetch.take() {
        if fetch.percent {
            // Postgres has no FETCH ... PERCENT.
            return Err(RouterError::syntax(
                "syntax error at or near \"percent\"".to_owned(),
            ));
        }
        // FETCH FIRST ROW ONLY: one row.
        let count = fetch.quantity.unwrap_or_else(|| number(1));
        if fetch.with_ties {
            with_ties(query, count)?;
        } else {
            let offset = match query.limit_clause.take() {
                Some(LimitClause::LimitOffset { offset, .. }) => offset,
                Some(LimitClause::OffsetCommaLimit { offset, .. }) => Some(Offset {
                    value: offset,
                    rows: OffsetRows::None,
                }),
                None => None,
            };
            query.limit_clause = Some(LimitClause::LimitOffset {
                limit: Some(count),
                offset,
                limit_by: vec![],
            });
        }
    }
    if let Some(LimitClause::LimitOffset {
        limit,
        offset: Some(offset),
        ..
    }) = &mut query.limit_clause
    {
        offset.rows = OffsetRows::None;
        limit.get_or_insert_with(|| Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr: Box::new(number(1)),
        });
    }
    Ok(())
}

fn with_ties(query: &mut Query, count: Expr) -> Result<(), RouterError> {
    if query.limit_clause.is_some() {
        return Err(RouterError::unsupported("FETCH ... WITH TIES with OFFSET"));
    }
    let order_by = match &query.order_by {
        Some(order) => match &order.kind {
            OrderByKind::Expressions(items) => items.clone(),
            OrderByKind::All(_) => Vec::new(),
        },
        None => Vec::new(),
    };
    if order_by.is_empty() {
        // Postgres: WITH TIES cannot be specified without ORDER BY clause.
        return Err(RouterError {
            sqlstate: "42601",
            message: "WITH TIES cannot be specified without ORDER BY clause".to_owned(),
        });
    }
    keep_picked_rows(
        query,
        PickingWindow {
            function: "rank",
            partition_by: vec![],
            order_by,
        },
        |w| Expr::BinaryOp {
            left: Box::new(w),
            op: BinaryOperator::LtEq,
            right: Box::new(count),
        },
        "FETCH ... WITH TIES",
    )
}

#[cfg(test)]
mod tests {
    use crate::test_support::sql;

    #[test]
    fn fetch_and_offset_rows_become_limit_and_offset() {
        assert_eq!(
            sql("select a from t order by a offset 1 rows fetch next 2 rows only"),
            "SELECT a FROM t ORDER BY a NULLS LAST LIMIT 2 OFFSET 1"
        );
        assert_eq!(
            sql("select a from t fetch first row only"),
            "SELECT a FROM t LIMIT 1"
        );
        assert_eq!(
            sql("select a from t offset 3"),
            "SELECT a FROM t LIMIT -1 OFFSET 3"
        );
    }

    #[test]
    fn with_ties_keeps_the_rows_ranked_within_the_count() {
        assert_eq!(
            sql("select a from t order by a fetch first 2 rows with ties"),
            "SELECT ls_c1 AS \"a\" FROM (SELECT a AS ls_c1, rank() OVER (ORDER BY a NULLS LAST) AS ls_w \
             FROM t) AS ls_q WHERE ls_w <= 2 ORDER BY ls_c1 NULLS LAST"
        );
        assert_eq!(
            crate::plan("select a from t order by a offset 1 fetch first 2 rows with ties")
                .unwrap_err()
                .sqlstate,
            "0A000"
        );
    }
}
