//! `SELECT DISTINCT ON (exprs) ... ORDER BY ...`: the first row of each group of equal
//! `exprs` in the ORDER BY's order. SQLite has no DISTINCT ON; the select keeps the rows
//! numbered 1 by `row_number() OVER (PARTITION BY exprs ORDER BY ...)`.

use std::ops::ControlFlow;

use sqlparser::ast::{BinaryOperator, Distinct, Expr, OrderByKind, Query, SetExpr};

use super::super::sql::number;
use super::window_filter::{PickingWindow, keep_picked_rows};
use crate::RouterError;

/// Rewrites every DISTINCT ON select of a statement.
pub(super) struct DistinctOn;

impl sqlparser::ast::VisitorMut for DistinctOn {
    type Break = RouterError;

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<RouterError> {
        match rewrite(query) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => ControlFlow::Break(e),
        }
    }
}

fn rewrite(query: &mut Query) -> Result<(), RouterError> {
    let SetExpr::Select(select) = query.body.as_mut() else {
        return Ok(());
    };
    let Some(Distinct::On(exprs)) = &select.distinct else {
        return Ok(());
    };
    let partition_by = exprs.clone();
    select.distinct = None;
    let order_by = match &query.order_by {
        Some(order) => match &order.kind {
            OrderByKind::Expressions(items) => items.clone(),
            OrderByKind::All(_) => Vec::new(),
        },
        None => Vec::new(),
    };
    keep_picked_rows(
        query,
        PickingWindow {
            function: "row_number",
            partition_by,
            order_by,
        },
        |w| Expr::BinaryOp {
            left: Box::new(w),
            op: BinaryOperator::Eq,
            right: Box::new(number(1)),
        },
        "DISTINCT ON",
    )
}

#[cfg(test)]
mod tests {
    use crate::test_support::sql;

    #[test]
    fn distinct_on_keeps_the_first_row_of_each_group() {
        assert_eq!(
            sql("select distinct on (dept) dept, name, salary from emp order by dept, salary desc"),
            "SELECT ls_c1 AS \"dept\", ls_c2 AS \"name\", ls_c3 AS \"salary\" FROM \
             (SELECT dept AS ls_c1, name AS ls_c2, salary AS ls_c3, row_number() OVER \
             (PARTITION BY dept ORDER BY dept NULLS LAST, salary DESC NULLS FIRST) AS ls_w FROM emp) AS ls_q \
             WHERE ls_w = 1 ORDER BY ls_c1 NULLS LAST, ls_c3 DESC NULLS FIRST"
        );
    }

    #[test]
    fn distinct_on_orders_by_hidden_columns_and_positions() {
        assert_eq!(
            sql("select distinct on (1) a + 1, b as x from t order by 1, c limit 2"),
            "SELECT ls_c1 AS \"?column?\", ls_c2 AS \"x\" FROM \
             (SELECT pg_plus(a, 1) AS ls_c1, b AS ls_c2, c AS ls_o2, row_number() OVER \
             (PARTITION BY pg_plus(a, 1) ORDER BY pg_plus(a, 1) NULLS LAST, c NULLS LAST) AS ls_w FROM t) AS ls_q \
             WHERE ls_w = 1 ORDER BY ls_c1 NULLS LAST, ls_o2 NULLS LAST LIMIT 2"
        );
    }

    #[test]
    fn distinct_on_with_a_star_is_refused() {
        let e = crate::plan("select distinct on (a) * from t order by a").unwrap_err();
        assert_eq!(e.sqlstate, "0A000");
    }
}
