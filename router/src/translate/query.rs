//! A query's shape where SQLite reads it differently: result columns named as Postgres
//! names them, NULLs ordered as Postgres orders them, column lists on derived tables, the
//! WHERE an upsert's SELECT needs, and scalar subqueries held to one row and one column.

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, Ident, SelectItem, SetExpr, Statement, Value};

use super::sql::parse_query;
use crate::infer::names::column_name;

/// Gives unnamed result columns (a query's or a RETURNING list's) the names Postgres gives
/// them (`count`, `?column?`), where SQLite would name them after the expression's text.
pub(super) fn name_result_columns(ast: &mut Statement) {
    let items = match ast {
        Statement::Query(q) => match first_select(q) {
            Some(items) => items,
            None => return,
        },
        // A view's and a CREATE TABLE ... AS's columns are named as a query's.
        Statement::CreateView(view) => match first_select(&mut view.query) {
            Some(items) => items,
            None => return,
        },
        Statement::CreateTable(create) => match create.query.as_mut().and_then(|q| first_select(q))
        {
            Some(items) => items,
            None => return,
        },
        Statement::Insert(insert) => match insert.returning.as_mut() {
            Some(items) => items,
            None => return,
        },
        Statement::Update(update) => match update.returning.as_mut() {
            Some(items) => items,
            None => return,
        },
        Statement::Delete(delete) => match delete.returning.as_mut() {
            Some(items) => items,
            None => return,
        },
        _ => return,
    };
    for item in items {
        if let SelectItem::UnnamedExpr(e) = item
            && !matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_))
        {
            let name = column_name(e).unwrap_or_else(|| "?column?".to_owned());
            *item = SelectItem::ExprWithAlias {
                expr: e.clone(),
                alias: Ident::with_quote('"', name),
            };
        }
    }
}

/// The select list that names a query's columns: a set operation's first branch's, as
/// SQLite names them too.
fn first_select(q: &mut sqlparser::ast::Query) -> Option<&mut Vec<SelectItem>> {
    let mut body = q.body.as_mut();
    loop {
        body = match body {
            SetExpr::SetOperation { left, .. } => left.as_mut(),
            SetExpr::Query(inner) => inner.body.as_mut(),
            _ => break,
        };
    }
    match body {
        SetExpr::Select(select) => Some(&mut select.projection),
        _ => None,
    }
}

/// Postgres sorts NULL after every value (NULLS LAST ascending, NULLS FIRST descending);
/// SQLite sorts it first. Every ORDER BY without NULLS FIRST/LAST gets Postgres' order:
/// a query's, a window's (named or inline) and an aggregate's (`string_agg(x, ',' ORDER
/// BY x)`).
pub(super) struct PostgresNullOrder;

fn postgres_null_order(items: &mut [sqlparser::ast::OrderByExpr]) {
    for o in items {
        if o.options.nulls_first.is_none() {
            let desc = matches!(o.options.sort, Some(sqlparser::ast::OrderBySort::Desc));
            o.options.nulls_first = Some(desc);
        }
    }
}

impl sqlparser::ast::VisitorMut for PostgresNullOrder {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut sqlparser::ast::Query) -> ControlFlow<()> {
        use sqlparser::ast::{NamedWindowExpr, SetExpr};
        if let Some(order) = query.order_by.as_mut()
            && let sqlparser::ast::OrderByKind::Expressions(exprs) = &mut order.kind
        {
            postgres_null_order(exprs);
        }
        if let SetExpr::Select(select) = query.body.as_mut() {
            for window in &mut select.named_window {
                if let NamedWindowExpr::WindowSpec(spec) = &mut window.1 {
                    postgres_null_order(&mut spec.order_by);
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        use sqlparser::ast::{FunctionArgumentClause, FunctionArguments, WindowType};
        if let Expr::Function(f) = expr {
            if let Some(WindowType::WindowSpec(spec)) = &mut f.over {
                postgres_null_order(&mut spec.order_by);
            }
            if let FunctionArguments::List(list) = &mut f.args {
                for clause in &mut list.clauses {
                    if let FunctionArgumentClause::OrderBy(items) = clause {
                        postgres_null_order(items);
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// `EXISTS (SELECT FROM t WHERE ...)`: a subquery with no columns, which Postgres allows
/// and SQLite does not, answers a constant instead (its rows are what count). A statement's
/// own select list is left as it is: its columns are the client's.
#[derive(Default)]
pub(super) struct ColumnlessSubqueries {
    depth: usize,
}

impl sqlparser::ast::VisitorMut for ColumnlessSubqueries {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut sqlparser::ast::Query) -> ControlFlow<()> {
        self.depth += 1;
        if self.depth > 1
            && let SetExpr::Select(select) = query.body.as_mut()
            && select.projection.is_empty()
        {
            select
                .projection
                .push(SelectItem::UnnamedExpr(Expr::value(Value::Number(
                    "1".to_owned(),
                    false,
                ))));
        }
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &mut sqlparser::ast::Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }
}

/// `(VALUES ...) AS t(a, b)` / `(SELECT ...) AS t(a, b)`: SQLite takes no column list on a
/// table alias, so the subquery's own columns are named instead.
pub(super) struct DerivedColumnAliases;

impl sqlparser::ast::VisitorMut for DerivedColumnAliases {
    type Break = ();

    fn post_visit_table_factor(
        &mut self,
        factor: &mut sqlparser::ast::TableFactor,
    ) -> ControlFlow<()> {
        use sqlparser::ast::{Ident, SelectItem, SetExpr, TableFactor};
        let TableFactor::Derived {
            subquery,
            alias: Some(alias),
            ..
        } = factor
        else {
            return ControlFlow::Continue(());
        };
        if alias.columns.is_empty() {
            return ControlFlow::Continue(());
        }
        let names: Vec<Ident> = alias.columns.iter().map(|c| c.name.clone()).collect();
        match subquery.body.as_mut() {
            SetExpr::Values(_) => {
                let columns: Vec<String> = names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| format!("column{} AS {n}", i + 1))
                    .collect();
                // A template whose inner VALUES is then replaced by the original (which may
                // hold parameters the parser would not read back).
                let sql = format!(
                    "SELECT {} FROM (VALUES (0)) AS ls_values",
                    columns.join(", ")
                );
                let Some(mut q) = parse_query(&sql) else {
                    return ControlFlow::Continue(());
                };
                let SetExpr::Select(outer) = q.body.as_mut() else {
                    return ControlFlow::Continue(());
                };
                let Some(TableFactor::Derived {
                    subquery: inner, ..
                }) = outer.from.first_mut().map(|t| &mut t.relation)
                else {
                    return ControlFlow::Continue(());
                };
                *inner = subquery.clone();
                *subquery = q;
            }
            SetExpr::Select(select) => {
                for (item, name) in select.projection.iter_mut().zip(&names) {
                    if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } =
                        item
                    {
                        *item = SelectItem::ExprWithAlias {
                            expr: e.clone(),
                            alias: name.clone(),
                        };
                    }
                }
            }
            _ => return ControlFlow::Continue(()),
        }
        alias.columns.clear();
        ControlFlow::Continue(())
    }
}

/// A scalar subquery answers at most one row: SQLite takes the first of several, Postgres
/// refuses them (21000), so its value is counted by the shard's `pg_single_row`. One of
/// several columns as a result column is Postgres' 42601 (SQLite's is its own error).
/// `x op ANY/ALL (subquery)` compares with every row: those subqueries are left alone.
#[derive(Default)]
pub(super) struct ScalarSubqueries {
    quantified: Vec<*const sqlparser::ast::Query>,
}

impl sqlparser::ast::VisitorMut for ScalarSubqueries {
    type Break = crate::RouterError;

    fn pre_visit_select(
        &mut self,
        select: &mut sqlparser::ast::Select,
    ) -> ControlFlow<Self::Break> {
        let several = select.projection.iter().any(|item| match item {
            SelectItem::UnnamedExpr(Expr::Subquery(q))
            | SelectItem::ExprWithAlias {
                expr: Expr::Subquery(q),
                ..
            } => matches!(q.body.as_ref(), SetExpr::Select(s) if s.projection.len() > 1),
            _ => false,
        });
        if several {
            return ControlFlow::Break(crate::RouterError::syntax(
                "subquery must return only one column".to_owned(),
            ));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<Self::Break> {
        if let Expr::AnyOp { right, .. } | Expr::AllOp { right, .. } = expr
            && let Expr::Subquery(rows) = right.as_ref()
        {
            self.quantified.push(&**rows);
        }
        if let Expr::Subquery(query) = expr
            && !self.quantified.contains(&(&**query as *const _))
            && !at_most_one_row(query)
            && let SetExpr::Select(select) = query.body.as_mut()
            && let [item] = select.projection.as_mut_slice()
        {
            // The column keeps the name Postgres gives it (`(SELECT max(x) ...)` is `max`).
            if let SelectItem::UnnamedExpr(e) = item {
                let name = column_name(e).unwrap_or_else(|| "?column?".to_owned());
                *item = SelectItem::ExprWithAlias {
                    expr: e.clone(),
                    alias: Ident::with_quote('"', name),
                };
            }
            let SelectItem::ExprWithAlias { expr: value, .. } = item else {
                return ControlFlow::Continue(());
            };
            let counted =
                parse_query("SELECT pg_single_row(count(*) OVER (), NULL)").and_then(|q| match *q
                    .body
                {
                    SetExpr::Select(s) => s.projection.into_iter().next(),
                    _ => None,
                });
            if let Some(SelectItem::UnnamedExpr(Expr::Function(mut f))) = counted
                && let sqlparser::ast::FunctionArguments::List(list) = &mut f.args
                && let Some(sqlparser::ast::FunctionArg::Unnamed(
                    sqlparser::ast::FunctionArgExpr::Expr(slot),
                )) = list.args.get_mut(1)
            {
                *slot = value.clone();
                *value = Expr::Function(f);
            }
        }
        ControlFlow::Continue(())
    }
}

/// A query that cannot answer more than one row: no FROM, DISTINCT (left alone: its
/// window would count the rows before DISTINCT), or LIMIT 0 or 1.
fn at_most_one_row(query: &sqlparser::ast::Query) -> bool {
    let limited = matches!(
        &query.limit_clause,
        Some(sqlparser::ast::LimitClause::LimitOffset { limit: Some(Expr::Value(v)), .. })
            if matches!(&v.value, Value::Number(n, _) if n == "0" || n == "1")
    );
    limited
        || match query.body.as_ref() {
            SetExpr::Select(select) => select.from.is_empty() || select.distinct.is_some(),
            _ => true,
        }
}

/// A query's `q.column` whose `q` names no table, alias or CTE anywhere in the statement
/// is Postgres' 42P01 (`missing FROM-clause entry`); SQLite answers that the column does
/// not exist.
pub(super) fn refuse_unknown_qualifiers(ast: &Statement) -> Result<(), crate::RouterError> {
    let Statement::Query(_) = ast else {
        return Ok(());
    };
    let mut names = crate::infer::schema::tables(ast);
    struct Aliases<'n>(&'n mut Vec<String>);
    impl sqlparser::ast::Visitor for Aliases<'_> {
        type Break = ();
        fn pre_visit_table_factor(
            &mut self,
            factor: &sqlparser::ast::TableFactor,
        ) -> ControlFlow<()> {
            use sqlparser::ast::TableFactor as F;
            // A table read without an alias is known by its name's last part
            // (`information_schema.columns` as `columns`).
            if let F::Table { name, .. } = factor
                && let Some(last) = name.0.last().and_then(|p| p.as_ident())
            {
                self.0.push(last.value.clone());
            }
            let alias = match factor {
                F::Table { alias, .. }
                | F::Derived { alias, .. }
                | F::Function { alias, .. }
                | F::UNNEST { alias, .. }
                | F::NestedJoin { alias, .. } => alias.as_ref(),
                _ => None,
            };
            self.0.extend(alias.map(|a| a.name.value.clone()));
            ControlFlow::Continue(())
        }
        fn pre_visit_query(&mut self, query: &sqlparser::ast::Query) -> ControlFlow<()> {
            let ctes = query.with.iter().flat_map(|w| &w.cte_tables);
            self.0.extend(ctes.map(|cte| cte.alias.name.value.clone()));
            ControlFlow::Continue(())
        }
    }
    let _ = sqlparser::ast::Visit::visit(ast, &mut Aliases(&mut names));
    let unknown = sqlparser::ast::visit_expressions(ast, |e| match e {
        Expr::CompoundIdentifier(parts)
            if parts.len() == 2 && !names.iter().any(|n| *n == parts[0].value) =>
        {
            ControlFlow::Break(parts[0].value.clone())
        }
        _ => ControlFlow::Continue(()),
    });
    match unknown {
        ControlFlow::Break(name) => Err(crate::RouterError {
            sqlstate: "42P01",
            message: format!("missing FROM-clause entry for table \"{name}\""),
        }),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// SQLite's keywords (sqlite.org/lang_keywords.html), which Postgres takes as a column's
/// label after AS (`ix.indisprimary AS primary`, as Sequelize writes) and SQLite does not.
const SQLITE_KEYWORDS: &[&str] = &[
    "abort",
    "action",
    "add",
    "after",
    "all",
    "alter",
    "always",
    "analyze",
    "and",
    "as",
    "asc",
    "attach",
    "autoincrement",
    "before",
    "begin",
    "between",
    "by",
    "cascade",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "commit",
    "conflict",
    "constraint",
    "create",
    "cross",
    "current",
    "current_date",
    "current_time",
    "current_timestamp",
    "database",
    "default",
    "deferrable",
    "deferred",
    "delete",
    "desc",
    "detach",
    "distinct",
    "do",
    "drop",
    "each",
    "else",
    "end",
    "escape",
    "except",
    "exclude",
    "exclusive",
    "exists",
    "explain",
    "fail",
    "filter",
    "first",
    "following",
    "for",
    "foreign",
    "from",
    "full",
    "generated",
    "glob",
    "group",
    "groups",
    "having",
    "if",
    "ignore",
    "immediate",
    "in",
    "index",
    "indexed",
    "initially",
    "inner",
    "insert",
    "instead",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "key",
    "last",
    "left",
    "like",
    "limit",
    "match",
    "materialized",
    "natural",
    "no",
    "not",
    "nothing",
    "notnull",
    "null",
    "nulls",
    "of",
    "offset",
    "on",
    "or",
    "order",
    "others",
    "outer",
    "over",
    "partition",
    "plan",
    "pragma",
    "preceding",
    "primary",
    "query",
    "raise",
    "range",
    "recursive",
    "references",
    "regexp",
    "reindex",
    "release",
    "rename",
    "replace",
    "restrict",
    "returning",
    "right",
    "rollback",
    "row",
    "rows",
    "savepoint",
    "select",
    "set",
    "table",
    "temp",
    "temporary",
    "then",
    "ties",
    "to",
    "transaction",
    "trigger",
    "unbounded",
    "union",
    "unique",
    "update",
    "using",
    "vacuum",
    "values",
    "view",
    "virtual",
    "when",
    "where",
    "window",
    "with",
    "without",
];

/// A select list's label that is one of SQLite's keywords, written quoted (as Postgres
/// reads it: folded to lower case).
pub(super) struct KeywordLabels;

impl sqlparser::ast::VisitorMut for KeywordLabels {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut sqlparser::ast::Query) -> ControlFlow<()> {
        fn label(body: &mut sqlparser::ast::SetExpr) {
            use sqlparser::ast::{SelectItem, SetExpr};
            match body {
                SetExpr::Select(select) => {
                    for item in &mut select.projection {
                        if let SelectItem::ExprWithAlias { alias, .. } = item
                            && alias.quote_style.is_none()
                            && SQLITE_KEYWORDS.contains(&alias.value.to_lowercase().as_str())
                        {
                            *alias =
                                sqlparser::ast::Ident::with_quote('"', alias.value.to_lowercase());
                        }
                    }
                }
                SetExpr::SetOperation { left, right, .. } => {
                    label(left);
                    label(right);
                }
                _ => {}
            }
        }
        label(&mut query.body);
        ControlFlow::Continue(())
    }
}

/// A quoted LIMIT or OFFSET (`LIMIT '5'`) read as bigint input reads it: Postgres' 22P02
/// for `LIMIT 'x'`, where SQLite refuses the text with its own error.
pub(super) struct QuotedLimits;

impl sqlparser::ast::VisitorMut for QuotedLimits {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut sqlparser::ast::Query) -> ControlFlow<()> {
        if let Some(sqlparser::ast::LimitClause::LimitOffset { limit, offset, .. }) =
            &mut query.limit_clause
        {
            for bound in limit
                .iter_mut()
                .chain(offset.iter_mut().map(|o| &mut o.value))
            {
                if matches!(bound, Expr::Value(v) if matches!(v.value, Value::SingleQuotedString(_)))
                {
                    *bound = Expr::Cast {
                        kind: sqlparser::ast::CastKind::Cast,
                        expr: Box::new(bound.clone()),
                        data_type: sqlparser::ast::DataType::BigInt(None),
                        format: None,
                    };
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// SQLite reads `INSERT ... SELECT ... FROM t ON CONFLICT ...` as a join's ON clause
/// unless the SELECT has a WHERE (its documented parsing ambiguity); Postgres has no such
/// ambiguity, so the SELECT gets `WHERE true`.
pub(super) fn disambiguate_upsert_select(ast: &mut Statement) {
    if let Statement::Insert(insert) = ast
        && insert.on.is_some()
        && let Some(source) = &mut insert.source
        && let sqlparser::ast::SetExpr::Select(select) = source.body.as_mut()
        && select.selection.is_none()
        && !select.from.is_empty()
    {
        select.selection = Some(Expr::Value(Value::Boolean(true).into()));
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::sql;

    #[test]
    fn result_columns_get_postgres_names() {
        assert_eq!(
            sql(
                "select a, t.b, count(*), 1, x::int, '1'::int4, a + 1 as s, case when a then 1 end from t group by a, t.b, x"
            ),
            "SELECT a, t.b, count(*) AS \"count\", 1 AS \"?column?\", pg_int4(x) AS \"x\", \
             pg_int4('1') AS \"int4\", pg_plus(a, 1) AS s, CASE WHEN a THEN 1 END AS \"case\" FROM t \
             GROUP BY a, t.b, x"
        );
        assert_eq!(
            sql("delete from t returning a, t.b, a > 0, upper(b) as u, lower(b)"),
            "DELETE FROM t RETURNING a, t.b, a > 0 AS \"?column?\", upper(b) AS u, lower(b) AS \"lower\""
        );
    }

    #[test]
    fn returning_columns_get_postgres_names() {
        assert_eq!(
            sql("delete from t where a = 1 returning a, b is null, upper(c)"),
            "DELETE FROM t WHERE a = 1 RETURNING a, b IS NULL AS \"?column?\", upper(c) AS \"upper\""
        );
    }

    #[test]
    fn derived_table_column_lists_name_the_subquery_columns() {
        assert_eq!(
            sql("select p0 from (values (1, 'a'), (2, 'b')) as v(p0, p1)"),
            "SELECT p0 FROM (SELECT column1 AS p0, column2 AS p1 FROM (VALUES (1, 'a'), (2, 'b')) AS ls_values) AS v"
        );
        assert_eq!(
            sql("insert into t select p0 from (values ($1::int, 0)) as v(p0, n) order by n"),
            "INSERT INTO t SELECT p0 FROM (SELECT column1 AS p0, column2 AS n FROM (VALUES (pg_int4(?1), 0)) AS ls_values) AS v ORDER BY n NULLS LAST"
        );
        assert_eq!(
            sql("select x from (select a, b from t) as s(x, y)"),
            "SELECT x FROM (SELECT a AS x, b AS y FROM t) AS s"
        );
    }

    #[test]
    fn an_upsert_from_a_select_gets_a_where_for_sqlite() {
        assert_eq!(
            sql(
                "insert into kv select i, 'v' from generate_series(1, 3) as g(i) on conflict do nothing"
            ),
            sql(
                "insert into kv select i, 'v' from generate_series(1, 3) as g(i) where true on conflict do nothing"
            )
        );
        assert!(!sql("insert into kv values (1, 'v') on conflict do nothing").contains("WHERE"));
    }

    #[test]
    fn scalar_subqueries_are_held_to_one_row_and_one_column() {
        assert_eq!(
            sql("select (select id from t) from u"),
            "SELECT (SELECT pg_single_row(count(*) OVER (), id) AS \"id\" FROM t) AS \"id\" FROM u"
        );
        // No FROM, LIMIT 1 and ANY's rows are left alone.
        assert_eq!(
            sql(
                "select (select 1), (select id from t limit 1) from u where id = any (select id from t)"
            ),
            "SELECT (SELECT 1) AS \"?column?\", (SELECT id FROM t LIMIT 1) AS \"id\" FROM u \
             WHERE id IN (SELECT id FROM t)"
        );
        assert_eq!(
            crate::plan("select (select 1, 2)").unwrap_err().sqlstate,
            "42601"
        );
    }

    #[test]
    fn a_qualifier_naming_nothing_in_the_statement_is_42p01() {
        assert_eq!(
            crate::plan("select p.id from parent").unwrap_err().sqlstate,
            "42P01"
        );
        // Tables, aliases, CTEs and outer queries' names are known.
        for known in [
            "select parent.id from parent",
            "select p.id from parent p where exists (select 1 from t where t.x = p.id)",
            "with c as (select 1 as v) select c.v from c",
            "select g.n from generate_series(1, 3) g(n)",
        ] {
            assert!(crate::plan(known).is_ok(), "{known}");
        }
    }
}
