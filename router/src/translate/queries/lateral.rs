//! LATERAL subqueries that yield at most one row, which SQLite (without LATERAL) runs as
//! correlated scalar subqueries: the subquery leaves FROM, and each reference to one of its
//! columns (`s.n`, or `n` alone) reads `(SELECT "n" FROM (<subquery>) AS ls_lateral)`.
//! An inner join keeps only the outer rows the subquery yields a row for (`EXISTS
//! (<subquery>)`, unless it yields one always) and its ON condition, both in the WHERE;
//! `LEFT JOIN LATERAL ... ON true` keeps the others with NULLs, as the scalar gives them.
//! A subquery that may yield several rows is refused (0A000), as are the joins whose
//! meaning the WHERE would not keep; those inside parenthesized joins are left to
//! `refusals`.

use std::ops::ControlFlow;

use sqlparser::ast::helpers::attached_token::AttachedToken;
use sqlparser::ast::{
    BinaryOperator, CaseWhen, Expr, GroupByExpr, Ident, JoinConstraint, JoinOperator, LimitClause,
    Query, Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, TableAlias,
    TableAliasColumnDef, TableFactor, Value, VisitMut, VisitorMut, visit_expressions,
};

use super::super::sql::{args, call, function_name, number, parse_query, string, strip_nesting};
use super::aggregation::holds_aggregate;
use crate::RouterError;
use crate::infer::names::column_name;
use crate::infer::schema::last_part;
use crate::infer::set_returning::output_names;

/// Rewrites the LATERAL subqueries in every select's FROM.
pub(super) struct Lateral;

impl VisitorMut for Lateral {
    type Break = RouterError;

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<RouterError> {
        let result = match query.body.as_mut() {
            SetExpr::Select(select) => rewrite_select(select, query.order_by.as_mut()),
            // A set operation's ORDER BY names its output columns, not a branch's tables.
            body @ SetExpr::SetOperation { .. } => rewrite_branches(body),
            _ => Ok(()),
        };
        match result {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => ControlFlow::Break(e),
        }
    }
}

/// The selects among a set operation's branches.
fn rewrite_branches(body: &mut SetExpr) -> Result<(), RouterError> {
    match body {
        SetExpr::SetOperation { left, right, .. } => {
            rewrite_branches(left)?;
            rewrite_branches(right)
        }
        SetExpr::Select(select) => rewrite_select(select, None),
        _ => Ok(()),
    }
}

/// How many rows a subquery yields, where that is provably at most one.
#[derive(Clone, Copy, PartialEq)]
enum Rows {
    ExactlyOne,
    AtMostOne,
}

/// How many rows `query` yields; `None` where it may be several.
fn rows(query: &Query) -> Option<Rows> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    // A parameter (drizzle's `LIMIT $1`) is held to at most one row when the statement
    // runs ([`guard_parameter_limits`]).
    let at_most_one = |e: &Expr| match strip_nesting(e) {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse::<u64>().is_ok_and(|n| n <= 1),
            Value::Placeholder(_) => true,
            _ => false,
        },
        _ => false,
    };
    let limit = match &query.limit_clause {
        Some(LimitClause::LimitOffset { limit, .. }) => limit.as_ref(),
        Some(LimitClause::OffsetCommaLimit { limit, .. }) => Some(limit),
        None => None,
    };
    let fetch_one = query
        .fetch
        .as_ref()
        .is_some_and(|f| !f.with_ties && !f.percent && f.quantity.as_ref().is_none_or(at_most_one));
    if limit.is_some_and(at_most_one) || fetch_one {
        return Some(Rows::AtMostOne);
    }
    // A set-returning call in the select list yields its rows even from one input row.
    let sets_of_rows = select.projection.iter().any(|item| match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
            visit_expressions(e, |inner| match inner {
                Expr::Function(f)
                    if function_name(f)
                        .is_some_and(|name| output_names(&name, args(f).len()).is_some()) =>
                {
                    ControlFlow::Break(())
                }
                _ => ControlFlow::Continue(()),
            })
            .is_break()
        }
        _ => false,
    });
    // Read from one subquery of at most one row (drizzle's `SELECT json_build_array(..)
    // FROM (SELECT .. LIMIT 1) s`): at most that row.
    if !sets_of_rows
        && let [only] = select.from.as_slice()
        && only.joins.is_empty()
        && let TableFactor::Derived { subquery, .. } = &only.relation
        && rows(subquery).is_some()
    {
        return Some(Rows::AtMostOne);
    }
    let ungrouped = matches!(&select.group_by, GroupByExpr::Expressions(g, _) if g.is_empty());
    let aggregated = ungrouped
        && select.projection.iter().any(|item| match item {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                holds_aggregate(e)
            }
            _ => false,
        });
    if sets_of_rows || !(select.from.is_empty() || aggregated) {
        return None;
    }
    let filtered = select.having.is_some()
        || (select.from.is_empty() && select.selection.is_some())
        || query.limit_clause.is_some()
        || query.fetch.is_some();
    Some(if filtered {
        Rows::AtMostOne
    } else {
        Rows::ExactlyOne
    })
}

/// How the subquery joins the rows before it.
enum Join {
    /// Inner (a comma, CROSS JOIN or JOIN), with its ON condition.
    Inner(Option<Box<Expr>>),
    /// LEFT JOIN ... ON true.
    Left,
}

fn is_true(e: &Expr) -> bool {
    matches!(strip_nesting(e), Expr::Value(v) if v.value == Value::Boolean(true))
}

fn join_of(operator: &JoinOperator) -> Result<Join, RouterError> {
    match operator {
        JoinOperator::CrossJoin(JoinConstraint::None) => Ok(Join::Inner(None)),
        JoinOperator::Join(JoinConstraint::On(on))
        | JoinOperator::Inner(JoinConstraint::On(on)) => {
            Ok(Join::Inner((!is_true(on)).then(|| Box::new(on.clone()))))
        }
        JoinOperator::Left(JoinConstraint::On(on))
        | JoinOperator::LeftOuter(JoinConstraint::On(on))
            if is_true(on) =>
        {
            Ok(Join::Left)
        }
        JoinOperator::Left(JoinConstraint::On(_))
        | JoinOperator::LeftOuter(JoinConstraint::On(_)) => Err(RouterError::unsupported(
            "LEFT JOIN LATERAL with an ON condition other than true",
        )),
        _ => Err(RouterError::unsupported(
            "LATERAL subqueries joined otherwise than by a comma, CROSS JOIN, JOIN ... ON or LEFT JOIN ... ON true",
        )),
    }
}

/// Where the first LATERAL subquery of a FROM stands: the FROM item, and its join there
/// (`None`: the item itself, after a comma).
fn first_lateral(select: &Select) -> Option<(usize, Option<usize>)> {
    let lateral = |f: &TableFactor| matches!(f, TableFactor::Derived { lateral: true, .. });
    select.from.iter().enumerate().find_map(|(i, item)| {
        if lateral(&item.relation) {
            return Some((i, None));
        }
        item.joins
            .iter()
            .position(|j| lateral(&j.relation))
            .map(|j| (i, Some(j)))
    })
}

/// A LATERAL subquery taken out of FROM: its alias, its columns' names (its alias' column
/// list's, else its own), and how many rows it yields.
struct Taken {
    alias: Option<String>,
    columns: Vec<String>,
    subquery: Box<Query>,
    rows: Rows,
}

/// `LIMIT $1` of a subquery [`rows`] took for one row: a value above 1 is refused when
/// the statement runs, where the subquery's rows would be read as one.
fn guard_parameter_limits(query: &mut Query) {
    if let Some(LimitClause::LimitOffset {
        limit: Some(limit), ..
    }) = &mut query.limit_clause
        && matches!(strip_nesting(limit), Expr::Value(v) if matches!(v.value, Value::Placeholder(_)))
    {
        let refused = call(
            "pg_raise",
            vec![
                string("0A000"),
                string(&format!(
                    "{MORE_THAN_ONE_ROW} is not supported by litescale"
                )),
            ],
        );
        *limit = Expr::Case {
            case_token: AttachedToken::empty(),
            end_token: AttachedToken::empty(),
            operand: None,
            conditions: vec![CaseWhen {
                // A parameter may arrive as text, which SQLite orders after any number.
                condition: Expr::BinaryOp {
                    left: Box::new(Expr::Cast {
                        kind: sqlparser::ast::CastKind::Cast,
                        expr: Box::new(limit.clone()),
                        data_type: sqlparser::ast::DataType::Integer(None),
                        format: None,
                    }),
                    op: BinaryOperator::Gt,
                    right: Box::new(number(1)),
                },
                result: refused,
            }],
            else_result: Some(Box::new(limit.clone())),
        };
    }
    if let SetExpr::Select(select) = query.body.as_mut()
        && let [only] = select.from.as_mut_slice()
        && only.joins.is_empty()
        && let TableFactor::Derived { subquery, .. } = &mut only.relation
    {
        guard_parameter_limits(subquery);
    }
}

const MORE_THAN_ONE_ROW: &str = "LATERAL subqueries that may return more than one row";

impl Taken {
    fn new(mut subquery: Box<Query>, alias: Option<TableAlias>) -> Result<Taken, RouterError> {
        let rows = rows(&subquery).ok_or_else(|| RouterError::unsupported(MORE_THAN_ONE_ROW))?;
        guard_parameter_limits(&mut subquery);
        let SetExpr::Select(select) = subquery.body.as_ref() else {
            return Err(RouterError::unsupported("LATERAL subqueries"));
        };
        let renamed = alias.as_ref().map_or(&[][..], |a| a.columns.as_slice());
        let mut columns = Vec::new();
        for (i, item) in select.projection.iter().enumerate() {
            let own = match item {
                SelectItem::ExprWithAlias { alias, .. } => alias.value.clone(),
                SelectItem::UnnamedExpr(e) => {
                    column_name(e).unwrap_or_else(|| "?column?".to_owned())
                }
                _ => {
                    return Err(RouterError::unsupported(
                        "LATERAL subqueries with * in the select list",
                    ));
                }
            };
            columns.push(renamed.get(i).map_or(own, |c| c.name.value.clone()));
        }
        Ok(Taken {
            alias: alias.map(|a| a.name.value),
            columns,
            subquery,
            rows,
        })
    }

    /// `(SELECT "column" FROM (<subquery>) AS ls_lateral("c1", ...))`, whose column list
    /// names the subquery's columns (see `DerivedColumnAliases`).
    fn scalar(&self, column: &str) -> Option<Expr> {
        let mut q = parse_query("SELECT ls_column FROM (SELECT 1) AS ls_lateral")?;
        let SetExpr::Select(select) = q.body.as_mut() else {
            return None;
        };
        select.projection = vec![SelectItem::UnnamedExpr(Expr::Identifier(
            Ident::with_quote('"', column),
        ))];
        if let TableFactor::Derived {
            subquery,
            alias: Some(alias),
            ..
        } = &mut select.from.first_mut()?.relation
        {
            subquery.clone_from(&self.subquery);
            alias.columns = self
                .columns
                .iter()
                .map(|c| TableAliasColumnDef {
                    name: Ident::with_quote('"', c),
                    data_type: None,
                })
                .collect();
        }
        Some(Expr::Subquery(q))
    }
}

/// Replaces the references to a taken subquery's columns. A bare column name is its only
/// in the select itself (a nested query's may be its own tables'), and not in an ORDER BY
/// that names an output column so; a qualified one is not where a nested query's own FROM
/// item takes the alias.
struct References<'a> {
    taken: &'a Taken,
    /// Per nested query entered, whether it takes the alias.
    scopes: Vec<bool>,
    output_names: &'a [String],
    /// How many references were replaced, each a run of the subquery.
    reads: usize,
}

impl<'a> References<'a> {
    fn new(taken: &'a Taken) -> Self {
        References {
            taken,
            scopes: Vec::new(),
            output_names: &[],
            reads: 0,
        }
    }

    fn column<'e>(&self, e: &'e Expr) -> Option<&'e str> {
        match e {
            Expr::CompoundIdentifier(parts) => match parts.as_slice() {
                [q, c]
                    if self.taken.alias.as_deref() == Some(q.value.as_str())
                        && !self.scopes.contains(&true) =>
                {
                    Some(c.value.as_str())
                }
                _ => None,
            },
            Expr::Identifier(c)
                if self.scopes.is_empty() && !self.output_names.contains(&c.value) =>
            {
                Some(c.value.as_str())
            }
            _ => None,
        }
        .filter(|c| self.taken.columns.iter().any(|n| n == c))
    }
}

/// Whether a query's own FROM has an item called `alias`.
fn takes_alias(query: &Query, alias: &str) -> bool {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return false;
    };
    let called = |factor: &TableFactor| match factor {
        TableFactor::Table { alias: Some(a), .. }
        | TableFactor::Derived { alias: Some(a), .. }
        | TableFactor::Function { alias: Some(a), .. } => a.name.value == alias,
        TableFactor::Table { name, .. } => last_part(name) == alias,
        _ => false,
    };
    select
        .from
        .iter()
        .any(|item| called(&item.relation) || item.joins.iter().any(|j| called(&j.relation)))
}

impl VisitorMut for References<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        let takes = self
            .taken
            .alias
            .as_deref()
            .is_some_and(|a| takes_alias(query, a));
        self.scopes.push(takes);
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.scopes.pop();
        ControlFlow::Continue(())
    }

    // After the children: the scalar holds the subquery, which must not be rewritten.
    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Some(scalar) = self.column(expr).and_then(|c| self.taken.scalar(c)) {
            *expr = scalar;
            self.reads += 1;
        }
        ControlFlow::Continue(())
    }
}

/// Functions whose every call answers anew: a subquery calling them, read more than once,
/// would not give the one row Postgres joins.
const VOLATILE: &[&str] = &[
    "random",
    "setseed",
    "nextval",
    "setval",
    "gen_random_uuid",
    "uuid_generate_v4",
    "clock_timestamp",
    "timeofday",
];

fn calls_volatile(query: &Query) -> bool {
    visit_expressions(query, |e| match e {
        Expr::Function(f) if function_name(f).is_some_and(|n| VOLATILE.contains(&n.as_str())) => {
            ControlFlow::Break(())
        }
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

/// `left AND right`, each side parenthesized, or `right` alone.
fn and(left: Option<Expr>, right: Expr) -> Expr {
    let nested = |e: Expr| match e {
        Expr::Nested(_) | Expr::Exists { .. } => e,
        e => Expr::Nested(Box::new(e)),
    };
    match left {
        Some(left) => Expr::BinaryOp {
            left: Box::new(nested(left)),
            op: BinaryOperator::And,
            right: Box::new(nested(right)),
        },
        None => right,
    }
}

/// Takes the LATERAL subquery at `item` (and `join`) out of FROM, with how it joined.
fn take_lateral(
    select: &mut Select,
    item: usize,
    join: Option<usize>,
) -> Result<(TableFactor, Join), RouterError> {
    Ok(match join {
        None if item == 0 => {
            return Err(RouterError::unsupported("a LATERAL subquery first in FROM"));
        }
        None if !select.from[item].joins.is_empty() => {
            return Err(RouterError::unsupported(
                "a LATERAL subquery after a comma joined to further tables",
            ));
        }
        None => (select.from.remove(item).relation, Join::Inner(None)),
        Some(j) => {
            let later = &select.from[item].joins[j + 1..];
            if later.iter().any(|l| {
                matches!(
                    l.join_operator,
                    JoinOperator::Right(_)
                        | JoinOperator::RightOuter(_)
                        | JoinOperator::FullOuter(_)
                )
            }) {
                return Err(RouterError::unsupported(
                    "a LATERAL subquery before a RIGHT or FULL join",
                ));
            }
            let joined = join_of(&select.from[item].joins[j].join_operator)?;
            (select.from[item].joins.remove(j).relation, joined)
        }
    })
}

/// Takes a select's LATERAL subqueries out of its FROM one by one, each read as scalars
/// wherever the rest of the select (and its query's ORDER BY) names its columns.
fn rewrite_select(
    select: &mut Select,
    mut order_by: Option<&mut sqlparser::ast::OrderBy>,
) -> Result<(), RouterError> {
    while let Some((item, join)) = first_lateral(select) {
        let (factor, joined) = take_lateral(select, item, join)?;
        let TableFactor::Derived {
            subquery, alias, ..
        } = factor
        else {
            return Err(RouterError::unsupported("LATERAL subqueries"));
        };
        let taken = Taken::new(subquery, alias)?;
        if select
            .projection
            .iter()
            .any(|i| matches!(i, SelectItem::Wildcard(_)))
        {
            return Err(RouterError::unsupported("SELECT * over a LATERAL subquery"));
        }

        // `s.*` is the subquery's columns, each read as its own.
        let mut projection = Vec::new();
        for i in std::mem::take(&mut select.projection) {
            match i {
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(name),
                    _,
                ) if taken.alias.is_some()
                    && name.0.len() == 1
                    && name.0[0].as_ident().map(|i| &i.value) == taken.alias.as_ref() =>
                {
                    for c in &taken.columns {
                        projection.push(SelectItem::ExprWithAlias {
                            expr: taken
                                .scalar(c)
                                .ok_or_else(|| RouterError::unsupported("LATERAL subqueries"))?,
                            alias: Ident::with_quote('"', c),
                        });
                    }
                }
                other => projection.push(other),
            }
        }

        let output_names: Vec<String> = projection
            .iter()
            .filter_map(|i| match i {
                SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.clone()),
                SelectItem::UnnamedExpr(e) => column_name(e),
                _ => None,
            })
            .collect();
        let mut references = References::new(&taken);
        for i in &mut projection {
            if let SelectItem::UnnamedExpr(e) = i {
                let name = column_name(e).unwrap_or_else(|| "?column?".to_owned());
                let before = e.clone();
                let _ = e.visit(&mut references);
                if *e != before {
                    *i = SelectItem::ExprWithAlias {
                        expr: e.clone(),
                        alias: Ident::with_quote('"', name),
                    };
                }
            } else {
                let _ = i.visit(&mut references);
            }
        }
        let from = std::mem::take(&mut select.from);
        let _ = select.visit(&mut references);
        select.from = from;
        select.projection = projection;

        // Only what follows the subquery in FROM may name it.
        let first_after = match join {
            None => item,
            Some(j) => {
                for later in &mut select.from[item].joins[j..] {
                    let _ = later.visit(&mut references);
                }
                item + 1
            }
        };
        for later in &mut select.from[first_after..] {
            let _ = later.visit(&mut references);
        }
        if let Some(order_by) = order_by.as_deref_mut() {
            references.output_names = &output_names;
            let _ = order_by.visit(&mut references);
            references.output_names = &[];
        }

        if let Join::Inner(on) = joined {
            if taken.rows == Rows::AtMostOne {
                let exists = Expr::Exists {
                    subquery: taken.subquery.clone(),
                    negated: false,
                };
                select.selection = Some(and(select.selection.take(), exists));
            }
            if let Some(mut on) = on {
                let _ = on.visit(&mut references);
                select.selection = Some(and(select.selection.take(), *on));
            }
        }
        if references.reads > 1 && calls_volatile(&taken.subquery) {
            return Err(RouterError::unsupported(
                "LATERAL subqueries calling volatile functions, read more than once",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::test_support::{refused, sql};

    #[test]
    fn a_limited_subquery_reads_as_a_scalar_and_keeps_the_rows_it_yields_for() {
        assert_eq!(
            sql("select a.name, l.title from a cross join lateral \
                 (select title from b where b.aid = a.id order by year desc limit 1) l"),
            "SELECT a.name, (SELECT \"title\" FROM (SELECT title AS \"title\" FROM b \
             WHERE b.aid = a.id ORDER BY year DESC NULLS FIRST LIMIT 1) AS ls_lateral) AS \"title\" \
             FROM a WHERE EXISTS (SELECT title FROM b WHERE b.aid = a.id ORDER BY year DESC NULLS FIRST LIMIT 1)"
        );
    }

    #[test]
    fn a_left_join_on_true_keeps_every_outer_row() {
        assert_eq!(
            sql(
                "select a.id, l.x from a left join lateral (select b.x from b where b.aid = a.id limit 1) l on true"
            ),
            "SELECT a.id, (SELECT \"x\" FROM (SELECT b.x AS \"x\" FROM b WHERE b.aid = a.id LIMIT 1) AS ls_lateral) AS \"x\" FROM a"
        );
    }

    #[test]
    fn a_one_row_subquery_read_from_is_one_row_and_a_limit_parameter_is_held_to_it() {
        assert_eq!(
            sql(
                "select a.id, l.d from a left join lateral (select s.x as d from \
                 (select * from b s where s.aid = a.id limit $1) s) l on true"
            ),
            "SELECT a.id, (SELECT \"d\" FROM (SELECT s.x AS \"d\" FROM (SELECT * FROM b s \
             WHERE s.aid = a.id LIMIT CASE WHEN pg_int4(?1) > 1 THEN pg_raise('0A000', \
             'LATERAL subqueries that may return more than one row is not supported by \
             litescale') ELSE ?1 END) s) AS ls_lateral) AS \"d\" FROM a"
        );
    }

    #[test]
    fn a_subquery_of_exactly_one_row_needs_no_exists_but_keeps_the_on_condition() {
        assert_eq!(
            sql(
                "select a.id, n from a, lateral (select count(*) from b where b.aid = a.id) s(n) where a.id > 1"
            ),
            "SELECT a.id, (SELECT \"n\" FROM (SELECT count(*) AS \"n\" FROM b WHERE b.aid = a.id) AS ls_lateral) AS \"n\" \
             FROM a WHERE a.id > 1"
        );
        assert_eq!(
            sql(
                "select s.* from a join lateral (select a.x + 1 as y, 2) s on s.y > 3 order by y, s.y"
            ),
            "SELECT (SELECT \"y\" FROM (SELECT pg_plus(a.x, 1) AS \"y\", 2 AS \"?column?\") AS ls_lateral) AS \"y\", \
             (SELECT \"?column?\" FROM (SELECT pg_plus(a.x, 1) AS \"y\", 2 AS \"?column?\") AS ls_lateral) AS \"?column?\" \
             FROM a WHERE (SELECT \"y\" FROM (SELECT pg_plus(a.x, 1) AS \"y\", 2 AS \"?column?\") AS ls_lateral) > 3 \
             ORDER BY y NULLS LAST, (SELECT \"y\" FROM (SELECT pg_plus(a.x, 1) AS \"y\", 2 AS \"?column?\") AS ls_lateral) NULLS LAST"
        );
    }

    #[test]
    fn subqueries_that_may_yield_several_rows_or_joins_the_where_cannot_keep_are_refused() {
        for text in [
            "select a.id, l.x from a cross join lateral (select b.x from b where b.aid = a.id) l",
            "select a.id, l.n from a, lateral (select count(*) as n from b where b.aid = a.id group by b.k) l",
            "select l.g from a, lateral (select generate_series(1, a.n) as g) l",
            "select * from a cross join lateral (select a.x limit 1) l",
            "select a.id from a cross join lateral (select b.x from b limit 1) l full join c on true",
        ] {
            assert!(refused(text).contains("LATERAL"), "{text}");
        }
        assert!(
            refused("select l.x from a left join lateral (select a.x limit 1) l on l.x > 0")
                .contains("ON condition other than true")
        );
        // Each read would pick its own random row.
        assert!(
            refused(
                "select l.x, l.y from a cross join lateral \
                 (select b.x, b.y from b where b.aid = a.id order by random() limit 1) l"
            )
            .contains("volatile")
        );
        assert!(
            crate::plan(
                "select l.x from a cross join lateral \
                 (select b.x from b where b.aid = a.id order by random() limit 1) l"
            )
            .is_ok()
        );
    }

    #[test]
    fn a_nested_query_with_its_own_item_of_that_name_keeps_its_references() {
        assert_eq!(
            sql("select (select l.x from t l), l.x from a, lateral (select a.x) l"),
            "SELECT (SELECT pg_single_row(count(*) OVER (), l.x) AS \"x\" FROM t l) AS \"x\", \
             (SELECT \"x\" FROM (SELECT a.x AS \"x\") AS ls_lateral) AS \"x\" FROM a"
        );
    }
}
