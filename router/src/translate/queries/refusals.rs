//! Query constructs SQLite has no exact counterpart for, refused with 0A000 naming them
//! rather than run differently: the LATERAL subqueries `lateral` leaves (in parenthesized
//! joins, in UPDATE and DELETE), column lists on a table's (or CTE's) alias,
//! data-modifying statements in a WITH that is not the statement's own (`modifying_with`
//! runs those),
//! GROUPING SETS / ROLLUP / CUBE that `grouping_sets` leaves (in a set operation's branch).

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, Query, SetExpr, TableFactor};

use crate::RouterError;

/// Finds the first refused construct of a statement.
pub(super) struct Refusals;

impl sqlparser::ast::Visitor for Refusals {
    type Break = RouterError;

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<RouterError> {
        let modifying = query.with.iter().flat_map(|w| &w.cte_tables).any(|cte| {
            matches!(
                cte.query.body.as_ref(),
                SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_)
            )
        });
        if modifying {
            return ControlFlow::Break(RouterError::unsupported(
                "a data-modifying statement in WITH",
            ));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<RouterError> {
        match factor {
            // A LATERAL function is a table-valued function reading earlier tables, as
            // SQLite's are (see set_returning.rs); a LATERAL subquery has no counterpart
            // unless `lateral` made it a scalar subquery.
            TableFactor::Derived { lateral: true, .. } => {
                ControlFlow::Break(RouterError::unsupported("LATERAL subqueries"))
            }
            // Postgres renames a table's first columns by position; SQLite takes no column
            // list on an alias, and which columns come first is the schema's, which the
            // translation does not know. (A table function's list names its columns, see
            // set_returning.rs.)
            TableFactor::Table {
                args: None,
                alias: Some(alias),
                ..
            } if !alias.columns.is_empty() => {
                ControlFlow::Break(RouterError::unsupported("a column list on a table's alias"))
            }
            _ => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<RouterError> {
        let construct = match expr {
            Expr::GroupingSets(_) => "GROUPING SETS",
            Expr::Rollup(_) => "ROLLUP",
            Expr::Cube(_) => "CUBE",
            _ => return ControlFlow::Continue(()),
        };
        ControlFlow::Break(RouterError::unsupported(construct))
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::refused;

    #[test]
    fn constructs_without_a_sqlite_counterpart_are_refused() {
        assert!(refused("select 1 from (t cross join lateral (select t.a) l)").contains("LATERAL"));
        assert!(
            refused("select * from (with x as (delete from t returning a) select * from x) s")
                .contains("WITH")
        );
        assert!(refused("select 1 union select a from t group by rollup(a)").contains("ROLLUP"));
        assert!(
            refused("select 1 union select a from t group by grouping sets ((a), ())")
                .contains("GROUPING SETS")
        );
        assert!(refused("select 1 union select a from t group by cube(a)").contains("CUBE"));
        assert!(refused("select aid from authors as a(aid, aname)").contains("column list"));
        assert!(crate::plan("select n from generate_series(1, 3) as t(n)").is_ok());
    }
}
