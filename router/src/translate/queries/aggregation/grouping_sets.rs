//! GROUP BY GROUPING SETS / ROLLUP / CUBE, which SQLite lacks, as a UNION ALL of one
//! GROUP BY per grouping set under an outer query that keeps the select list's names,
//! DISTINCT, ORDER BY and LIMIT. In each branch a grouping column the set leaves out is
//! NULL (outside aggregates: inside them it is the rows' value) and grouping(...) is the
//! set's constant bit mask. An ORDER BY expression that is not a result column travels as a
//! hidden column of every branch.

use sqlparser::ast::{
    Expr, GroupByExpr, Ident, OrderByKind, Query, Select, SelectItem, SetExpr, SetOperator,
    SetQuantifier, TableFactor, Value, visit_expressions_mut,
};

use super::super::super::sql::{args, call, function_name, is_aggregate, number, parse_query};
use crate::RouterError;
use crate::infer::names::column_name;

/// The derived table the branches make, and the prefixes of its columns.
const DERIVED: &str = "ls_grouping_sets";
const COLUMN: &str = "ls_column_";
const ORDER: &str = "ls_order_";
const AGGREGATE: &str = "ls_aggregate_";

/// Rewrites every query whose GROUP BY has grouping sets, or whose select list or HAVING
/// asks grouping(...).
pub(super) struct GroupingSets;

impl sqlparser::ast::VisitorMut for GroupingSets {
    type Break = RouterError;

    fn post_visit_query(&mut self, query: &mut Query) -> std::ops::ControlFlow<RouterError> {
        match rewrite(query) {
            Ok(()) => std::ops::ControlFlow::Continue(()),
            Err(e) => std::ops::ControlFlow::Break(e),
        }
    }
}

fn has_grouping_call(select: &Select) -> bool {
    let mut found = false;
    let mut look = |e: &Expr| {
        let _ = sqlparser::ast::visit_expressions(e, |inner| {
            if let Expr::Function(f) = inner
                && function_name(f).as_deref() == Some("grouping")
            {
                found = true;
            }
            std::ops::ControlFlow::<()>::Continue(())
        });
    };
    for item in &select.projection {
        if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item {
            look(e);
        }
    }
    if let Some(h) = &select.having {
        look(h);
    }
    found
}

/// The grouping sets a GROUP BY list means: the cross product of its items' sets.
fn grouping_sets(items: &[Expr], projection: &[SelectItem]) -> Result<Vec<Vec<Expr>>, RouterError> {
    // `GROUP BY 1` names the first result column.
    let resolve = |e: &Expr| -> Result<Expr, RouterError> {
        if let Expr::Value(v) = e
            && let Value::Number(n, _) = &v.value
            && let Ok(position) = n.parse::<usize>()
            && let Some(
                SelectItem::UnnamedExpr(item) | SelectItem::ExprWithAlias { expr: item, .. },
            ) = position.checked_sub(1).and_then(|i| projection.get(i))
        {
            return Ok(item.clone());
        }
        // A result column's alias: Postgres takes an input column of that name first, and
        // only the schema knows whether there is one.
        let aliased = projection.iter().any(|item| {
            matches!((item, e), (SelectItem::ExprWithAlias { expr, alias }, Expr::Identifier(i))
                if alias.value == i.value && expr != e)
        });
        if aliased {
            return Err(RouterError::unsupported(
                "grouping sets naming a result column's alias",
            ));
        }
        Ok(e.clone())
    };
    let nested = |sets: &[Vec<Expr>]| -> Result<Vec<Vec<Expr>>, RouterError> {
        let flat: Vec<Vec<Expr>> = sets
            .iter()
            .map(|set| set.iter().map(resolve).collect::<Result<_, _>>())
            .collect::<Result<_, _>>()?;
        if flat
            .iter()
            .flatten()
            .any(|e| matches!(e, Expr::GroupingSets(_) | Expr::Rollup(_) | Expr::Cube(_)))
        {
            return Err(RouterError::unsupported("nested grouping sets"));
        }
        Ok(flat)
    };
    let mut product: Vec<Vec<Expr>> = vec![vec![]];
    for item in items {
        let sets: Vec<Vec<Expr>> = match item {
            Expr::GroupingSets(sets) => nested(sets)?,
            Expr::Rollup(groups) => {
                let groups = nested(groups)?;
                (0..=groups.len())
                    .rev()
                    .map(|n| groups[..n].concat())
                    .collect()
            }
            Expr::Cube(groups) => {
                let groups = nested(groups)?;
                let n = groups.len();
                // Postgres lists the full set first, the empty one last.
                (0..1usize << n)
                    .rev()
                    .map(|mask| {
                        (0..n)
                            .filter(|i| mask & (1 << (n - 1 - i)) != 0)
                            .flat_map(|i| groups[i].clone())
                            .collect()
                    })
                    .collect()
            }
            plain => vec![vec![resolve(plain)?]],
        };
        product = product
            .iter()
            .flat_map(|left| {
                sets.iter().map(move |right| {
                    let mut set = left.clone();
                    set.extend(right.iter().filter(|e| !left.contains(e)).cloned());
                    set
                })
            })
            .collect();
    }
    Ok(product)
}

fn rewrite(query: &mut Query) -> Result<(), RouterError> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Ok(());
    };
    let GroupByExpr::Expressions(items, modifiers) = &select.group_by else {
        return Ok(());
    };
    let has_sets = items
        .iter()
        .any(|e| matches!(e, Expr::GroupingSets(_) | Expr::Rollup(_) | Expr::Cube(_)));
    if !modifiers.is_empty() || !(has_sets || has_grouping_call(select)) {
        return Ok(());
    }
    let sets = grouping_sets(items, &select.projection)?;
    let grouped: Vec<Expr> = sets.iter().flatten().fold(Vec::new(), |mut all, e| {
        if !all.contains(e) {
            all.push(e.clone());
        }
        all
    });
    let mut visible = Vec::new();
    for item in &select.projection {
        match item {
            SelectItem::UnnamedExpr(e) => visible.push((
                e.clone(),
                column_name(e).unwrap_or_else(|| "?column?".to_owned()),
            )),
            SelectItem::ExprWithAlias { expr, alias } => {
                visible.push((expr.clone(), alias.value.clone()))
            }
            _ => return Err(RouterError::unsupported("* with GROUPING SETS")),
        }
    }
    if visible.iter().any(|(e, _)| holds_window(e)) {
        return Err(RouterError::unsupported(
            "window functions with GROUPING SETS",
        ));
    }
    // ORDER BY: a position or result column name stays; an expression of the select list
    // becomes its position; any other travels as a hidden column.
    let mut hidden: Vec<Expr> = Vec::new();
    let mut order_by = query.order_by.clone();
    if let Some(order) = &mut order_by {
        let OrderByKind::Expressions(keys) = &mut order.kind else {
            return Err(RouterError::unsupported("ORDER BY ALL with GROUPING SETS"));
        };
        for key in keys {
            let named = matches!(&key.expr, Expr::Identifier(i)
                if visible.iter().any(|(_, name)| *name == i.value));
            let positional = matches!(&key.expr, Expr::Value(v)
                if matches!(v.value, Value::Number(_, _)));
            if named || positional {
                continue;
            }
            key.expr = match visible.iter().position(|(e, _)| *e == key.expr) {
                Some(i) => number(i + 1),
                None => {
                    hidden.push(key.expr.clone());
                    Expr::Identifier(Ident::new(format!("{ORDER}{}", hidden.len())))
                }
            };
        }
    }
    let mut branches = sets.iter().map(|set| {
        let mut branch = select.as_ref().clone();
        branch.distinct = None;
        branch.group_by = GroupByExpr::Expressions(set.clone(), vec![]);
        let columns = visible
            .iter()
            .map(|(e, _)| e)
            .chain(&hidden)
            .enumerate()
            .map(|(i, e)| {
                let prefix = if i < visible.len() { COLUMN } else { ORDER };
                let position = if i < visible.len() {
                    i + 1
                } else {
                    i + 1 - visible.len()
                };
                SelectItem::ExprWithAlias {
                    expr: for_set(e, set, &grouped),
                    alias: Ident::new(format!("{prefix}{position}")),
                }
            });
        // An aggregate makes the empty set's branch one row, as Postgres answers it.
        branch.projection = columns
            .chain(std::iter::once(SelectItem::UnnamedExpr(call(
                "count",
                vec![number(1)],
            ))))
            .collect();
        branch.having = branch.having.as_ref().map(|h| for_set(h, set, &grouped));
        SetExpr::Select(Box::new(branch))
    });
    let first = branches.next().unwrap_or(SetExpr::Select(select.clone()));
    let union = branches.fold(first, |left, right| SetExpr::SetOperation {
        op: SetOperator::Union,
        set_quantifier: SetQuantifier::All,
        left: Box::new(left),
        right: Box::new(right),
    });
    let Some(mut outer) = parse_query(&format!("SELECT 1 FROM (SELECT 1) AS {DERIVED}")) else {
        return Ok(());
    };
    let SetExpr::Select(outer_select) = outer.body.as_mut() else {
        return Ok(());
    };
    outer_select.distinct = select.distinct.clone();
    outer_select.projection = visible
        .iter()
        .enumerate()
        .map(|(i, (_, name))| SelectItem::ExprWithAlias {
            expr: Expr::Identifier(Ident::new(format!("{COLUMN}{}", i + 1))),
            alias: Ident::with_quote('"', name),
        })
        .collect();
    if let Some(TableFactor::Derived { subquery, .. }) =
        outer_select.from.first_mut().map(|t| &mut t.relation)
    {
        *subquery.body = union;
    }
    query.body = outer.body;
    query.order_by = order_by;
    Ok(())
}

fn holds_window(e: &Expr) -> bool {
    sqlparser::ast::visit_expressions(e, |inner| match inner {
        Expr::Function(f) if f.over.is_some() => std::ops::ControlFlow::Break(()),
        _ => std::ops::ControlFlow::Continue(()),
    })
    .is_break()
}

/// Whether two expressions name the same grouped value: equal, or the same column written
/// with and without its table's name (`s.region`, `region`).
fn same(a: &Expr, b: &Expr) -> bool {
    let column = |e: &Expr| match e {
        Expr::Identifier(i) => Some((None, i.value.clone())),
        Expr::CompoundIdentifier(parts) if parts.len() >= 2 => Some((
            Some(parts[parts.len() - 2].value.clone()),
            parts[parts.len() - 1].value.clone(),
        )),
        _ => None,
    };
    match (column(a), column(b)) {
        (Some((qa, ca)), Some((qb, cb))) => ca == cb && (qa.is_none() || qb.is_none() || qa == qb),
        _ => a == b,
    }
}

fn holds(exprs: &[Expr], e: &Expr) -> bool {
    exprs.iter().any(|x| same(x, e))
}

/// `e` as the branch of `set` computes it: grouped columns the set leaves out are NULL
/// outside aggregates, and grouping(...) the set's bit mask (1 for each argument the set
/// leaves out, the first argument the highest bit).
fn for_set(e: &Expr, set: &[Expr], grouped: &[Expr]) -> Expr {
    let mut e = e.clone();
    let mut aggregates: Vec<Expr> = Vec::new();
    // Aggregates see the rows' values: set them aside while the rest is rewritten.
    let _ = visit_expressions_mut(&mut e, |inner| {
        if let Expr::Function(f) = inner {
            if function_name(f).as_deref() == Some("grouping") {
                let mask = args(f)
                    .iter()
                    .fold(0u64, |mask, a| (mask << 1) | u64::from(!holds(set, a)));
                *inner = number(mask);
            } else if is_aggregate(f) {
                aggregates.push(inner.clone());
                *inner = Expr::Identifier(Ident::new(format!("{AGGREGATE}{}", aggregates.len())));
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    let _ = visit_expressions_mut(&mut e, |inner| {
        if holds(grouped, inner) && !holds(set, inner) {
            *inner = Expr::value(Value::Null);
        } else if let Expr::Identifier(i) = inner
            && let Some(k) = i.value.strip_prefix(AGGREGATE)
            && let Ok(k) = k.parse::<usize>()
            && let Some(aggregate) = aggregates.get(k - 1)
        {
            *inner = aggregate.clone();
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    e
}

#[cfg(test)]
mod tests {
    use crate::test_support::sql;

    #[test]
    fn rollup_is_a_union_of_one_group_by_per_set() {
        assert_eq!(
            sql("select a, grouping(a), sum(b) from t group by rollup (a) order by a"),
            "SELECT ls_column_1 AS \"a\", ls_column_2 AS \"grouping\", ls_column_3 AS \"sum\" \
             FROM (SELECT a AS ls_column_1, 0 AS ls_column_2, pg_num_value(pg_num_sum(b)) AS ls_column_3, count(1) \
             FROM t GROUP BY a UNION ALL SELECT NULL AS ls_column_1, 1 AS ls_column_2, \
             pg_num_value(pg_num_sum(b)) AS ls_column_3, count(1) FROM t) AS ls_grouping_sets \
             ORDER BY a NULLS LAST"
        );
    }

    #[test]
    fn grouping_sets_cube_and_plain_keys_multiply() {
        let sets = |group_by: &str| {
            let text = sql(&format!("select count(*) from t group by {group_by}"));
            text.matches("count(1)").count()
        };
        assert_eq!(sets("grouping sets ((a), (b), ())"), 3);
        assert_eq!(sets("cube (a, b)"), 4);
        assert_eq!(sets("a, rollup (b, c)"), 3);
        assert_eq!(sets("rollup (a), cube (b)"), 4);
    }

    #[test]
    fn a_column_is_the_same_with_or_without_its_tables_name() {
        let text = sql("select s.a, count(*) from t s group by rollup (a)");
        assert!(text.contains("SELECT NULL AS ls_column_1"), "{text}");
    }

    #[test]
    fn an_order_by_outside_the_select_list_is_a_hidden_column() {
        let text = sql("select sum(b) from t group by rollup (a) order by a desc");
        assert!(text.contains("NULL AS ls_order_1"), "{text}");
        assert!(
            text.ends_with("ORDER BY ls_order_1 DESC NULLS FIRST"),
            "{text}"
        );
    }

    #[test]
    fn window_functions_over_grouping_sets_are_refused() {
        let e =
            crate::plan("select a, sum(count(*)) over () from t group by rollup (a)").unwrap_err();
        assert_eq!(e.sqlstate, "0A000");
    }
}
