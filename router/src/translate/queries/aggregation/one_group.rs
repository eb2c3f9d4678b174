//! HAVING without GROUP BY: Postgres makes the whole input one group even when the select
//! list has no aggregate (`SELECT 1 FROM t HAVING count(*) > 3`), which SQLite refuses as
//! a HAVING on a non-aggregate query. The group is computed in a derived table and the
//! select list read over it: it can hold no column of the input, only constants.

use sqlparser::ast::{GroupByExpr, Query, SelectItem, SetExpr, TableFactor};

use super::super::super::sql::{call, number, parse_query};
use super::rules::holds_aggregate;

/// Rewrites each such query.
pub(super) struct OneGroup;

impl sqlparser::ast::VisitorMut for OneGroup {
    type Break = ();

    fn post_visit_query(&mut self, query: &mut Query) -> std::ops::ControlFlow<()> {
        rewrite(query);
        std::ops::ControlFlow::Continue(())
    }
}

fn rewrite(query: &mut Query) {
    let SetExpr::Select(select) = query.body.as_mut() else {
        return;
    };
    let ungrouped =
        matches!(&select.group_by, GroupByExpr::Expressions(keys, _) if keys.is_empty());
    let aggregated = select.projection.iter().any(|item| match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
            holds_aggregate(e)
        }
        _ => false,
    });
    if select.having.is_none() || !ungrouped || aggregated {
        return;
    }
    let Some(mut group) = parse_query("SELECT 1 FROM (SELECT 1) AS ls_one_group") else {
        return;
    };
    let mut inner = select.as_ref().clone();
    inner.projection = vec![SelectItem::UnnamedExpr(call("count", vec![number(1)]))];
    inner.distinct = None;
    if let SetExpr::Select(outer) = group.body.as_mut()
        && let Some(TableFactor::Derived { subquery, .. }) =
            outer.from.first_mut().map(|t| &mut t.relation)
    {
        *subquery.body = SetExpr::Select(Box::new(inner));
        select.from = std::mem::take(&mut outer.from);
        select.selection = None;
        select.having = None;
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::sql;

    #[test]
    fn having_without_group_by_groups_the_whole_input() {
        assert_eq!(
            sql("select 1 as x from t where a > 0 having count(*) > 3"),
            "SELECT 1 AS x FROM (SELECT count(1) FROM t WHERE a > 0 HAVING count(*) > 3) AS ls_one_group"
        );
        assert_eq!(
            sql("select sum(a) from t having sum(a) > 0"),
            "SELECT pg_num_sum(a) AS \"sum\" FROM t HAVING pg_num_value(pg_num_sum(a)) > 0"
        );
    }
}
