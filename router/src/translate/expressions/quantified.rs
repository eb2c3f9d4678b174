//! `x op ANY (...)` and `x op ALL (...)` (SOME is ANY) with Postgres' NULL rules: true,
//! false, or NULL when no element decides and some comparison was NULL. SQLite has
//! neither: over `ARRAY[...]` they become OR/AND chains of the comparisons; over a
//! subquery, `= ANY` is IN and `<> ALL` NOT IN (the same rules), other operators count
//! the comparisons' outcomes over the subquery's rows. `= ANY` over an array value asks
//! pg_array_contains; other operators over an array value are refused.

use sqlparser::ast::{BinaryOperator, Expr, Ident, SelectItem, SetExpr, Value};

use super::super::sql::{call, parse_query};
use crate::RouterError;

/// The rewrite of an ANY/ALL expression; `None` for any other expression.
pub(super) fn rewrite(expr: &Expr) -> Result<Option<Expr>, RouterError> {
    let (left, op, right, any) = match expr {
        Expr::AnyOp {
            left,
            compare_op,
            right,
            ..
        } => (left, compare_op, right, true),
        Expr::AllOp {
            left,
            compare_op,
            right,
        } => (left, compare_op, right, false),
        _ => return Ok(None),
    };
    let compare = |element: Expr| Expr::BinaryOp {
        left: left.clone(),
        op: op.clone(),
        right: Box::new(element),
    };
    Ok(Some(match (right.as_ref(), any, op) {
        (Expr::Array(array), _, _) if array.elem.is_empty() => Expr::value(Value::Boolean(!any)),
        (Expr::Array(array), _, _) => {
            let chain = if any {
                BinaryOperator::Or
            } else {
                BinaryOperator::And
            };
            let mut elements = array.elem.iter().cloned().map(compare);
            let first = elements
                .next()
                .unwrap_or_else(|| Expr::value(Value::Boolean(!any)));
            Expr::Nested(Box::new(elements.fold(first, |acc, c| Expr::BinaryOp {
                left: Box::new(acc),
                op: chain.clone(),
                right: Box::new(c),
            })))
        }
        (Expr::Subquery(q), true, BinaryOperator::Eq)
        | (Expr::Subquery(q), false, BinaryOperator::NotEq) => Expr::In {
            expr: left.clone(),
            target: sqlparser::ast::InTarget::Subquery(q.clone()),
            negated: !any,
            global: false,
        },
        (Expr::Subquery(q), _, _) => {
            // ANY: true if some comparison is true, else NULL if some is NULL, else false;
            // ALL: false if some is false, else NULL if some is NULL, else true.
            let decided = if any {
                "WHEN max(ls_b) = 1 THEN TRUE WHEN count(*) > count(ls_b) THEN NULL ELSE FALSE"
            } else {
                "WHEN min(ls_b) = 0 THEN FALSE WHEN count(*) > count(ls_b) THEN NULL ELSE TRUE"
            };
            let template = format!(
                "WITH ls_q (ls_v) AS (SELECT 0) SELECT CASE {decided} END \
                 FROM (SELECT 0 AS ls_b FROM ls_q) AS ls_t"
            );
            let mut outcome =
                parse_query(&template).ok_or_else(|| RouterError::unsupported("ANY/ALL"))?;
            if let Some(cte) = outcome.with.as_mut().and_then(|w| w.cte_tables.first_mut()) {
                cte.query = q.clone();
            }
            if let SetExpr::Select(select) = outcome.body.as_mut()
                && let Some(sqlparser::ast::TableFactor::Derived { subquery, .. }) =
                    select.from.first_mut().map(|t| &mut t.relation)
                && let SetExpr::Select(comparisons) = subquery.body.as_mut()
            {
                comparisons.projection = vec![SelectItem::ExprWithAlias {
                    expr: compare(Expr::Identifier(Ident::new("ls_v"))),
                    alias: Ident::new("ls_b"),
                }];
            }
            Expr::Subquery(outcome)
        }
        (array, true, BinaryOperator::Eq) => {
            call("pg_array_contains", vec![array.clone(), (**left).clone()])
        }
        _ => {
            return Err(RouterError::unsupported(
                "ANY/ALL over an array value with an operator other than = ANY",
            ));
        }
    }))
}

#[cfg(test)]
mod tests {
    use crate::test_support::sql;

    #[test]
    fn any_and_all_over_array_literals_chain_the_comparisons() {
        assert_eq!(
            sql("select a > any(array[1, b]), a <> all(array[1, 2]) from t"),
            "SELECT (a > 1 OR a > b) AS \"?column?\", (a <> 1 AND a <> 2) AS \"?column?\" FROM t"
        );
    }

    #[test]
    fn any_and_all_over_subqueries() {
        assert_eq!(
            sql("select a from t where a = any(select b from u) and a <> all(select b from u)"),
            "SELECT a FROM t WHERE a IN (SELECT b FROM u) AND a NOT IN (SELECT b FROM u)"
        );
        assert_eq!(
            sql("select a from t where a > all(select b from u)"),
            "SELECT a FROM t WHERE (WITH ls_q (ls_v) AS (SELECT b FROM u) SELECT CASE WHEN min(ls_b) = 0 \
             THEN false WHEN count(*) > count(ls_b) THEN NULL ELSE true END FROM (SELECT a > ls_v AS ls_b \
             FROM ls_q) AS ls_t)"
        );
    }

    #[test]
    fn other_operators_over_array_values_are_refused() {
        assert_eq!(
            crate::plan("select a from t where a > any($1)")
                .unwrap_err()
                .sqlstate,
            "0A000"
        );
    }
}
