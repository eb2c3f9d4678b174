//! A select kept to the rows a window function picks, which SQLite can only filter on
//! from outside: `SELECT <columns> FROM (SELECT ..., <window> AS ls_w FROM ...) AS ls_q
//! WHERE ls_w <test> ORDER BY ...`, with the result columns named and ordered as the
//! client's select names and orders them. DISTINCT ON and FETCH ... WITH TIES are built on it.

use sqlparser::ast::{
    Expr, Function, Ident, OrderByExpr, OrderByKind, Query, SelectItem, SetExpr, TableFactor,
    Value, WindowSpec, WindowType,
};

use super::super::sql::{call, parse_query};
use crate::RouterError;
use crate::infer::names::column_name;

/// The window the rows are picked by: a function (`row_number`, `rank`), its PARTITION BY
/// and ORDER BY, each as the client wrote them (ordinals and output names allowed).
pub(super) struct PickingWindow<'a> {
    pub function: &'a str,
    pub partition_by: Vec<Expr>,
    pub order_by: Vec<OrderByExpr>,
}

/// Rewrites `query` (a plain select) into the filtered form; `test` is what `ls_w` must
/// satisfy (`= 1`, `<= n`). `construct` names the clause for a refusal.
pub(super) fn keep_picked_rows(
    query: &mut Query,
    window: PickingWindow,
    test: impl FnOnce(Expr) -> Expr,
    construct: &str,
) -> Result<(), RouterError> {
    let SetExpr::Select(select) = query.body.as_mut() else {
        return Ok(());
    };
    let mut exprs = Vec::new();
    let mut names = Vec::new();
    for item in &select.projection {
        match item {
            SelectItem::UnnamedExpr(e) => {
                exprs.push(e.clone());
                names.push(column_name(e).unwrap_or_else(|| "?column?".to_owned()));
            }
            SelectItem::ExprWithAlias { expr, alias } => {
                exprs.push(expr.clone());
                names.push(alias.value.clone());
            }
            // The subquery's extra columns could not be left out of `*`.
            _ => {
                return Err(RouterError::unsupported(&format!(
                    "{construct} with * in the select list"
                )));
            }
        }
    }
    // An ORDER BY item is an output column (by position or name) or an expression over
    // the select's input, which the subquery then carries as a hidden column.
    let output_position = |e: &Expr| -> Option<usize> {
        match e {
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => n
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=exprs.len()).contains(n))
                    .map(|n| n - 1),
                _ => None,
            },
            Expr::Identifier(i) => names.iter().position(|n| *n == i.value),
            _ => None,
        }
    };
    let input_expr = |e: &Expr| output_position(e).map_or_else(|| e.clone(), |p| exprs[p].clone());
    let spec = WindowSpec {
        window_name: None,
        partition_by: window.partition_by.iter().map(input_expr).collect(),
        order_by: window
            .order_by
            .iter()
            .map(|o| OrderByExpr {
                expr: input_expr(&o.expr),
                ..o.clone()
            })
            .collect(),
        window_frame: None,
    };
    let mut picking = call(window.function, vec![]);
    if let Expr::Function(Function { over, .. }) = &mut picking {
        *over = Some(WindowType::WindowSpec(spec));
    }

    let mut inner_items: Vec<SelectItem> = exprs
        .iter()
        .enumerate()
        .map(|(i, e)| SelectItem::ExprWithAlias {
            expr: e.clone(),
            alias: Ident::new(format!("ls_c{}", i + 1)),
        })
        .collect();
    let mut outer_order = Vec::new();
    if let Some(order) = query.order_by.take() {
        let OrderByKind::Expressions(items) = order.kind else {
            return Err(RouterError::unsupported(&format!(
                "{construct} with ORDER BY ALL"
            )));
        };
        for o in items {
            let column = match output_position(&o.expr) {
                Some(p) => format!("ls_c{}", p + 1),
                None => {
                    let hidden = format!("ls_o{}", outer_order.len() + 1);
                    inner_items.push(SelectItem::ExprWithAlias {
                        expr: o.expr.clone(),
                        alias: Ident::new(hidden.clone()),
                    });
                    hidden
                }
            };
            outer_order.push(OrderByExpr {
                expr: Expr::Identifier(Ident::new(column)),
                ..o
            });
        }
    }
    inner_items.push(SelectItem::ExprWithAlias {
        expr: picking,
        alias: Ident::new("ls_w"),
    });
    select.projection = inner_items;

    let columns: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("ls_c{} AS \"{}\"", i + 1, n.replace('"', "\"\"")))
        .collect();
    let template = format!(
        "SELECT {} FROM (SELECT 0) AS ls_q WHERE ls_w ORDER BY 1",
        columns.join(", ")
    );
    let Some(mut outer) = parse_query(&template) else {
        return Err(RouterError::unsupported(construct));
    };
    let SetExpr::Select(outer_select) = outer.body.as_mut() else {
        return Err(RouterError::unsupported(construct));
    };
    outer_select.selection = Some(test(Expr::Identifier(Ident::new("ls_w"))));
    if let Some(TableFactor::Derived { subquery, .. }) =
        outer_select.from.first_mut().map(|t| &mut t.relation)
    {
        // WITH, LIMIT and FETCH move to the outer query; ORDER BY is already taken.
        **subquery = Query {
            with: None,
            limit_clause: None,
            fetch: None,
            ..query.clone()
        };
    }
    match outer.order_by.as_mut() {
        Some(order) if !outer_order.is_empty() => {
            order.kind = OrderByKind::Expressions(outer_order)
        }
        _ => outer.order_by = None,
    }
    outer.with = query.with.take();
    outer.limit_clause = query.limit_clause.take();
    outer.fetch = query.fetch.take();
    *query = *outer;
    Ok(())
}
