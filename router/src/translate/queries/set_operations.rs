//! Set operations and VALUES in the shapes SQLite takes: a parenthesized branch
//! (`(SELECT ... LIMIT 1) UNION ALL (...)`) and a VALUES list that is a branch or is ordered
//! or limited become `SELECT * FROM (...)`, which SQLite reads as Postgres reads the
//! original.

use std::ops::ControlFlow;

use sqlparser::ast::{Query, SetExpr, TableFactor, VisitorMut};

use super::super::sql::parse_query;

pub(super) struct SetOperationBranches;

impl VisitorMut for SetOperationBranches {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        let ordered = query.order_by.is_some() || query.limit_clause.is_some();
        match query.body.as_mut() {
            SetExpr::Values(_) if ordered => wrap(query.body.as_mut()),
            SetExpr::SetOperation { left, right, .. } => {
                for branch in [left.as_mut(), right.as_mut()] {
                    branches(branch);
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// Wraps each parenthesized or VALUES branch of a (possibly nested) set operation.
fn branches(body: &mut SetExpr) {
    match body {
        SetExpr::SetOperation { left, right, .. } => {
            branches(left);
            branches(right);
        }
        SetExpr::Query(_) | SetExpr::Values(_) => wrap(body),
        _ => {}
    }
}

/// `body` → `SELECT * FROM (body) AS ls_branch`.
fn wrap(body: &mut SetExpr) {
    let Some(mut select) = parse_query("SELECT * FROM (SELECT 1) AS ls_branch") else {
        return;
    };
    let inner = std::mem::replace(
        body,
        SetExpr::Values(sqlparser::ast::Values {
            explicit_row: false,
            value_keyword: false,
            rows: Vec::new(),
        }),
    );
    let inner_query = match inner {
        SetExpr::Query(q) => q,
        other => Box::new(Query {
            body: Box::new(other),
            ..*select.clone()
        }),
    };
    if let SetExpr::Select(s) = select.body.as_mut()
        && let Some(TableFactor::Derived { subquery, .. }) =
            s.from.first_mut().map(|t| &mut t.relation)
    {
        *subquery = inner_query;
    }
    *body = *select.body;
}

#[cfg(test)]
mod tests {
    use crate::test_support::sql;

    #[test]
    fn parenthesized_and_values_branches_become_subqueries() {
        assert_eq!(
            sql("(select x from a order by x limit 1) union all (select x from b) order by 1"),
            "SELECT * FROM (SELECT x FROM a ORDER BY x NULLS LAST LIMIT 1) AS ls_branch \
             UNION ALL SELECT * FROM (SELECT x FROM b) AS ls_branch ORDER BY 1 NULLS LAST"
        );
        assert_eq!(
            sql("values (3), (1) order by 1 desc"),
            "SELECT * FROM (VALUES (3), (1)) AS ls_branch ORDER BY 1 DESC NULLS FIRST"
        );
    }
}
