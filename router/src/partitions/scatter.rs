//! Reads that touch every partition: what each partition runs, and how the proxy merges
//! the partial results so the client gets exactly what one database would answer. What
//! cannot be merged correctly is refused, never answered approximately.

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, LimitClause, OrderByKind,
    SelectItem, SetExpr, Statement, Value,
};

use crate::infer::schema::NoSchema;
use crate::plan::session::SessionContext;
use crate::plan::statement::PlannedStatement;
use crate::translate::sql::{call, is_aggregate};
use crate::translate::{fetch_as_limit, translate};

/// One merge step, applied in order to the concatenated partition results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeStep {
    /// Combine rows with equal values in these columns, merging the others by `Aggregate`.
    Group {
        keys: Vec<usize>,
        aggregates: Vec<(usize, Aggregate)>,
    },
    /// Drop duplicate rows.
    Distinct,
    /// Sort by these columns: (column, descending, nulls first).
    Sort(Vec<(usize, bool, bool)>),
    Offset(u64),
    Limit(u64),
}

/// How a partial aggregate merges across partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// count and sum: add the partials.
    Sum,
    Min,
    Max,
    /// avg: this column holds the partial sums, the next one the partial counts (an extra
    /// column the partitions return and the merge removes).
    Avg,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScatterPlan {
    /// The SQL each partition runs (for AVG it returns sum and count instead).
    pub partition_sql: String,
    pub merge: Vec<MergeStep>,
    /// The columns min() and max() compare, whose merge compares their values as they
    /// are: the caller refuses the plan when one has an order of its own (an enum).
    pub compared_columns: Vec<String>,
}

impl ScatterPlan {
    /// The merge steps in words, as EXPLAIN and the golden file show them.
    pub fn merge_description(&self) -> String {
        let steps: Vec<String> = self
            .merge
            .iter()
            .map(|s| match s {
                MergeStep::Group { keys, aggregates } => {
                    let aggs: Vec<String> = aggregates
                        .iter()
                        .map(|(c, a)| format!("{a:?}(#{c})"))
                        .collect();
                    format!("group by {keys:?} {}", aggs.join(" "))
                }
                MergeStep::Distinct => "distinct".to_owned(),
                MergeStep::Sort(keys) => {
                    let k: Vec<String> = keys
                        .iter()
                        .map(|(c, desc, nf)| {
                            format!(
                                "#{c} {}{}",
                                if *desc { "desc" } else { "asc" },
                                if *nf { " nulls first" } else { "" }
                            )
                        })
                        .collect();
                    format!("sort {}", k.join(", "))
                }
                MergeStep::Offset(n) => format!("offset {n}"),
                MergeStep::Limit(n) => format!("limit {n}"),
            })
            .collect();
        if steps.is_empty() {
            "concatenate".to_owned()
        } else {
            format!("concatenate, {}", steps.join(", "))
        }
    }
}

impl std::fmt::Display for ScatterPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "each partition: {} | merge: {}",
            self.partition_sql,
            self.merge_description()
        )
    }
}

fn refuse(why: &str) -> String {
    format!("cannot merge across partitions: {why}")
}

fn number(e: &Expr) -> Option<u64> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `e` holds an aggregate or window function anywhere, which the merge could not
/// combine (it merges only aggregates that are whole select-list items).
fn holds_unmergeable(e: &Expr) -> bool {
    let found = sqlparser::ast::visit_expressions(e, |inner| match inner {
        Expr::Function(f) if f.over.is_some() || is_aggregate(f) => {
            std::ops::ControlFlow::Break(())
        }
        _ => std::ops::ControlFlow::Continue(()),
    });
    found.is_break()
}

fn aggregate_of(e: &Expr) -> Option<(&str, Option<&Expr>)> {
    let Expr::Function(f) = e else { return None };
    if f.over.is_some() {
        return None;
    }
    let name = f.name.0.last()?.as_ident()?.value.as_str();
    if !matches!(name, "count" | "sum" | "min" | "max" | "avg") {
        return None;
    }
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    if list.duplicate_treatment.is_some() {
        // count(DISTINCT x) cannot be merged from partial counts.
        return Some(("distinct", None));
    }
    let arg = match list.args.first() {
        Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(e))) => Some(e),
        _ => None,
    };
    Some((name, arg))
}

/// Plans a read that runs on every partition.
pub fn scatter(planned: &PlannedStatement, ctx: &SessionContext) -> Result<ScatterPlan, String> {
    let Some(Statement::Query(query)) = &planned.ast else {
        return Err(refuse("only queries can run on every partition"));
    };
    // FETCH FIRST is merged as the LIMIT it is.
    let mut query = query.clone();
    fetch_as_limit(&mut query).map_err(|e| e.message)?;
    if query.with.is_some() {
        return Err(refuse("WITH"));
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Err(refuse("UNION, INTERSECT and EXCEPT"));
    };
    if matches!(select.distinct, Some(sqlparser::ast::Distinct::On(_))) {
        return Err(refuse("DISTINCT ON"));
    }
    if select.having.is_some() {
        return Err(refuse("HAVING"));
    }
    let mut partition = query.as_ref().clone();
    let mut merge = Vec::new();
    let mut compared_columns = Vec::new();

    let group_keys: Vec<&Expr> = match &select.group_by {
        GroupByExpr::Expressions(exprs, _) => exprs.iter().collect(),
        GroupByExpr::All(_) => return Err(refuse("GROUP BY ALL")),
    };
    // Their rows group partial results by sets the merge does not know.
    if group_keys
        .iter()
        .any(|k| matches!(k, Expr::GroupingSets(_) | Expr::Rollup(_) | Expr::Cube(_)))
    {
        return Err(refuse("GROUPING SETS, ROLLUP and CUBE"));
    }
    let items: Vec<&Expr> = select
        .projection
        .iter()
        .filter_map(|i| match i {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => Some(e),
            _ => None,
        })
        .collect();
    // With a `*` the positions of the columns are not known here.
    let wildcard = items.len() != select.projection.len();
    if items
        .iter()
        .any(|e| aggregate_of(e).is_none() && holds_unmergeable(e))
    {
        return Err(refuse(
            "an aggregate or window function inside an expression, or one that partial results cannot give",
        ));
    }
    let has_aggregates = items.iter().any(|e| aggregate_of(e).is_some());

    if has_aggregates || !group_keys.is_empty() {
        if wildcard {
            return Err(refuse("* with aggregates"));
        }
        let mut keys = Vec::new();
        for k in &group_keys {
            let position = items
                .iter()
                .position(|e| *e == *k)
                .ok_or_else(|| refuse("a GROUP BY expression that is not in the select list"))?;
            keys.push(position);
        }
        // Positions in the partitions' rows, where each AVG takes two columns.
        let shifted = |original: usize| {
            original
                + items[..original]
                    .iter()
                    .filter(|e| matches!(aggregate_of(e), Some(("avg", _))))
                    .count()
        };
        let mut aggregates = Vec::new();
        for (i, e) in items.iter().enumerate() {
            match aggregate_of(e) {
                Some(("count" | "sum", _)) => aggregates.push((shifted(i), Aggregate::Sum)),
                Some((extreme @ ("min" | "max"), arg)) => {
                    if let Some(Expr::Identifier(c)) = arg {
                        compared_columns.push(c.value.clone());
                    }
                    if let Some(Expr::CompoundIdentifier(parts)) = arg
                        && let Some(c) = parts.last()
                    {
                        compared_columns.push(c.value.clone());
                    }
                    let merged = if extreme == "min" {
                        Aggregate::Min
                    } else {
                        Aggregate::Max
                    };
                    aggregates.push((shifted(i), merged));
                }
                Some(("avg", Some(arg))) => {
                    aggregates.push((shifted(i), Aggregate::Avg));
                    rewrite_avg(&mut partition, shifted(i), arg);
                }
                Some(_) => return Err(refuse("an aggregate over DISTINCT values")),
                None if keys.contains(&i) => {}
                None => return Err(refuse("a column that is neither grouped nor aggregated")),
            }
        }
        // After this step the rows have the select list's columns again.
        merge.push(MergeStep::Group {
            keys: keys.into_iter().map(shifted).collect(),
            aggregates,
        });
    }
    if select.distinct.is_some() {
        merge.push(MergeStep::Distinct);
    }
    if let Some(order) = &query.order_by {
        let OrderByKind::Expressions(exprs) = &order.kind else {
            return Err(refuse("ORDER BY ALL"));
        };
        if wildcard {
            return Err(refuse("ORDER BY with * in the select list"));
        }
        let mut keys = Vec::new();
        for o in exprs {
            let position = match number(&o.expr) {
                Some(n) if n >= 1 => Some(n as usize - 1),
                _ => items.iter().position(|e| **e == o.expr).or_else(|| {
                    select.projection.iter().position(|i| match (i, &o.expr) {
                        (SelectItem::ExprWithAlias { alias, .. }, Expr::Identifier(id)) => {
                            alias.value == id.value
                        }
                        _ => false,
                    })
                }),
            }
            .ok_or_else(|| refuse("an ORDER BY expression that is not in the select list"))?;
            let desc = match &o.options.sort {
                Some(sqlparser::ast::OrderBySort::Desc) => true,
                Some(sqlparser::ast::OrderBySort::Asc) | None => false,
                Some(_) => return Err(refuse("ORDER BY ... USING")),
            };
            // Postgres sorts NULLs as larger than any value unless told otherwise.
            let nulls_first = o.options.nulls_first.unwrap_or(desc);
            keys.push((position, desc, nulls_first));
        }
        merge.push(MergeStep::Sort(keys));
    }
    if let Some(limit) = &query.limit_clause {
        let LimitClause::LimitOffset { limit, offset, .. } = limit else {
            return Err(refuse("LIMIT offset, count"));
        };
        let offset = match offset {
            Some(o) => number(&o.value).ok_or_else(|| refuse("a non-literal OFFSET"))?,
            None => 0,
        };
        let limit = match limit {
            Some(l) => Some(number(l).ok_or_else(|| refuse("a non-literal LIMIT"))?),
            None => None,
        };
        if !merge
            .iter()
            .any(|s| matches!(s, MergeStep::Group { .. } | MergeStep::Distinct))
        {
            // Each partition returns the first offset + limit rows; the merge skips and cuts.
            partition.limit_clause = limit.map(|l| LimitClause::LimitOffset {
                limit: Some(Expr::value(Value::Number((l + offset).to_string(), false))),
                offset: None,
                limit_by: vec![],
            });
        } else {
            partition.limit_clause = None;
        }
        if offset > 0 {
            merge.push(MergeStep::Offset(offset));
        }
        if let Some(l) = limit {
            merge.push(MergeStep::Limit(l));
        }
    }
    let partition_sql = translate(Statement::Query(Box::new(partition)), ctx, &NoSchema)
        .map_err(|e| e.message)?
        .sql;
    Ok(ScatterPlan {
        partition_sql,
        merge,
        compared_columns,
    })
}

/// `avg(x)` → `sum(x), count(x)` in the partition query.
fn rewrite_avg(query: &mut sqlparser::ast::Query, position: usize, arg: &Expr) {
    let SetExpr::Select(select) = query.body.as_mut() else {
        return;
    };
    let call = |name: &str| call(name, vec![arg.clone()]);
    select.projection[position] = SelectItem::UnnamedExpr(call("sum"));
    select
        .projection
        .insert(position + 1, SelectItem::UnnamedExpr(call("count")));
}
