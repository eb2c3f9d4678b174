//! Set operations and VALUES in the shapes SQLite takes: a parenthesized branch
//! (`(SELECT ... LIMIT 1) UNION ALL (...)`) and a VALUES list that is a branch or is ordered
//! or limited become `SELECT * FROM (...)`, which SQLite reads as Postgres reads the
//! original. INTERSECT ALL and EXCEPT ALL, which SQLite lacks, become its INTERSECT and
//! EXCEPT over rows numbered within each group of equal rows: the n-th copy of a row on one
//! side meets the n-th on the other.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Query, SelectItem, SetExpr, SetOperator, SetQuantifier, TableFactor, VisitorMut,
};

use super::super::sql::parse_query;
use crate::RouterError;
use crate::infer::names::column_name;

/// Rewrites every INTERSECT ALL and EXCEPT ALL; numbers them to name their CTEs apart.
#[derive(Default)]
pub(super) struct AllAsDistinct {
    rewritten: usize,
}

impl VisitorMut for AllAsDistinct {
    type Break = RouterError;

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<RouterError> {
        let itself = matches!(
            query.body.as_ref(),
            SetExpr::SetOperation {
                op: SetOperator::Intersect | SetOperator::Except,
                set_quantifier: SetQuantifier::All,
                ..
            }
        );
        if let Err(e) = self.rewrite(query.body.as_mut()) {
            return ControlFlow::Break(e);
        }
        // A query that was itself the set operation takes the rewritten query's WITH and
        // body: SQLite runs no parenthesized query on its own.
        if itself && let SetExpr::Query(rewritten) = take(query.body.as_mut()) {
            query.with = match (query.with.take(), rewritten.with) {
                (Some(mut own), Some(with)) => {
                    own.cte_tables.extend(with.cte_tables);
                    Some(own)
                }
                (own, with) => own.or(with),
            };
            query.body = rewritten.body;
        }
        ControlFlow::Continue(())
    }
}

impl AllAsDistinct {
    /// Rewrites the INTERSECT ALL and EXCEPT ALL nodes of a set operation tree, innermost
    /// first, each into a query of its own.
    fn rewrite(&mut self, body: &mut SetExpr) -> Result<(), RouterError> {
        let SetExpr::SetOperation {
            op,
            set_quantifier,
            left,
            right,
        } = body
        else {
            return Ok(());
        };
        self.rewrite(left)?;
        self.rewrite(right)?;
        let keyword = match op {
            SetOperator::Intersect => "INTERSECT",
            SetOperator::Except => "EXCEPT",
            _ => return Ok(()),
        };
        if *set_quantifier != SetQuantifier::All {
            return Ok(());
        }
        let names = first_branch_names(left)
            .ok_or_else(|| RouterError::unsupported(&format!("{keyword} ALL over *")))?;
        self.rewritten += 1;
        let n = self.rewritten;
        let columns: Vec<String> = (1..=names.len()).map(|i| format!("ls_c{i}")).collect();
        let columns = columns.join(", ");
        let outer: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, name)| format!("ls_c{} AS \"{}\"", i + 1, name.replace('"', "\"\"")))
            .collect();
        let numbered = |side: &str| {
            format!(
                "SELECT {columns}, row_number() OVER (PARTITION BY {columns}) AS ls_n FROM {side}{n}"
            )
        };
        let template = format!(
            "WITH ls_left{n}({columns}) AS (SELECT 1), ls_right{n}({columns}) AS (SELECT 1) \
             SELECT {} FROM ({} {keyword} {}) AS ls_set",
            outer.join(", "),
            numbered("ls_left"),
            numbered("ls_right"),
        );
        let mut query = parse_query(&template)
            .ok_or_else(|| RouterError::unsupported(&format!("{keyword} ALL")))?;
        if let Some(with) = query.with.as_mut() {
            for (cte, side) in with.cte_tables.iter_mut().zip([left, right]) {
                let side = take(side);
                match side {
                    SetExpr::Query(q) => cte.query = q,
                    side => *cte.query.body = side,
                }
            }
        }
        *body = SetExpr::Query(query);
        Ok(())
    }
}

/// The names of a set operation's columns, its first branch's; `None` where a `*` hides
/// how many there are.
fn first_branch_names(body: &SetExpr) -> Option<Vec<String>> {
    match body {
        SetExpr::SetOperation { left, .. } => first_branch_names(left),
        SetExpr::Query(q) => first_branch_names(&q.body),
        SetExpr::Select(select) => select
            .projection
            .iter()
            .map(|item| match item {
                SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.clone()),
                SelectItem::UnnamedExpr(e) => {
                    Some(column_name(e).unwrap_or_else(|| "?column?".to_owned()))
                }
                _ => None,
            })
            .collect(),
        SetExpr::Values(values) => Some(
            (1..=values.rows.first()?.len())
                .map(|i| format!("column{i}"))
                .collect(),
        ),
        _ => None,
    }
}

pub(super) struct SetOperationBranches;

impl VisitorMut for SetOperationBranches {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        let ordered = query.order_by.is_some() || query.limit_clause.is_some();
        match query.body.as_mut() {
            SetExpr::Values(_) if ordered => wrap(query.body.as_mut()),
            operation @ SetExpr::SetOperation { .. } => branches(operation),
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// Wraps each parenthesized or VALUES branch of a (possibly nested) set operation, and
/// each set operation on an operation's right: SQLite reads compound operators left to
/// right at one precedence, so `a UNION b INTERSECT c` (Postgres' INTERSECT binds tighter)
/// must read `b INTERSECT c` as one branch.
fn branches(body: &mut SetExpr) {
    if let SetExpr::SetOperation { left, right, .. } = body {
        for branch in [left.as_mut(), right.as_mut()] {
            match branch {
                SetExpr::SetOperation { .. } => branches(branch),
                SetExpr::Query(_) | SetExpr::Values(_) => wrap(branch),
                _ => {}
            }
        }
        if matches!(right.as_ref(), SetExpr::SetOperation { .. }) {
            wrap(right);
        }
    }
}

/// `body`, an empty VALUES left in its place for the caller to fill.
fn take(body: &mut SetExpr) -> SetExpr {
    std::mem::replace(
        body,
        SetExpr::Values(sqlparser::ast::Values {
            explicit_row: false,
            value_keyword: false,
            rows: Vec::new(),
        }),
    )
}

/// `body` → `SELECT * FROM (body) AS ls_branch`.
fn wrap(body: &mut SetExpr) {
    let Some(mut select) = parse_query("SELECT * FROM (SELECT 1) AS ls_branch") else {
        return;
    };
    let inner = take(body);
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

    #[test]
    fn intersect_all_and_except_all_meet_the_nth_copy_of_a_row_with_the_nth() {
        assert_eq!(
            sql("select x, y as z from a intersect all select x, 1 from b order by z"),
            "WITH ls_left1 (ls_c1, ls_c2) AS (SELECT x, y AS z FROM a), \
             ls_right1 (ls_c1, ls_c2) AS (SELECT x, 1 FROM b) \
             SELECT ls_c1 AS \"x\", ls_c2 AS \"z\" FROM \
             (SELECT ls_c1, ls_c2, row_number() OVER (PARTITION BY ls_c1, ls_c2) AS ls_n FROM ls_left1 \
             INTERSECT SELECT ls_c1, ls_c2, row_number() OVER (PARTITION BY ls_c1, ls_c2) AS ls_n FROM ls_right1) \
             AS ls_set ORDER BY z NULLS LAST"
        );
        // Each operation is a query of its own, with its own CTEs, after the client's.
        assert_eq!(
            sql(
                "with c as (select 1 as x) select x from a except all (select x from c) except all select 2"
            ),
            "WITH c AS (SELECT 1 AS x), \
             ls_left2 (ls_c1) AS (WITH ls_left1 (ls_c1) AS (SELECT x FROM a), \
             ls_right1 (ls_c1) AS (SELECT x FROM c) SELECT ls_c1 AS \"x\" FROM \
             (SELECT ls_c1, row_number() OVER (PARTITION BY ls_c1) AS ls_n FROM ls_left1 \
             EXCEPT SELECT ls_c1, row_number() OVER (PARTITION BY ls_c1) AS ls_n FROM ls_right1) AS ls_set), \
             ls_right2 (ls_c1) AS (SELECT 2) \
             SELECT ls_c1 AS \"x\" FROM \
             (SELECT ls_c1, row_number() OVER (PARTITION BY ls_c1) AS ls_n FROM ls_left2 \
             EXCEPT SELECT ls_c1, row_number() OVER (PARTITION BY ls_c1) AS ls_n FROM ls_right2) AS ls_set"
        );
        assert!(
            sql("select 1 union select x from a intersect all select y from b")
                .starts_with("SELECT 1 AS \"?column?\" UNION SELECT * FROM (WITH ls_left1")
        );
        let e = crate::plan("select * from a except all select * from b").unwrap_err();
        assert_eq!(e.sqlstate, "0A000");
    }

    #[test]
    fn a_set_operation_on_the_right_runs_first() {
        // Postgres' INTERSECT binds tighter than UNION; SQLite reads left to right.
        assert_eq!(
            sql("select x from a union select x from b intersect select 2"),
            "SELECT x FROM a UNION SELECT * FROM (SELECT x FROM b INTERSECT SELECT 2) AS ls_branch"
        );
    }
}
