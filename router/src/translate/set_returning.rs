//! Set-returning functions (generate_series, unnest, jsonb_each, regexp_matches, ...),
//! which SQLite lacks, become the shard's table-valued function `pg_srf(spec, args...)`
//! (shard/src/engine/sql/set_returning/), whose rows have the columns `c0..c7` and
//! `ordinality`:
//! - in FROM (also LATERAL: SQLite's table-valued functions read earlier tables' columns),
//!   the call is replaced by `pg_srf` under the same alias, and the select's references to
//!   its columns by Postgres' names (`key`, `t.n`, `*`) read the `cK` they stand for;
//! - in a select list, the calls join the FROM clause as one `pg_srf` that runs them side
//!   by side, as Postgres does, and each call reads its column.
//!
//! Knows which functions return sets and how Postgres names their columns; not their
//! values (the shard's) nor their types (`infer/`).

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, Ident, ObjectName, Query, Select, SelectItem, SetExpr,
    TableFactor, TableWithJoins, VisitMut, VisitorMut,
};

use super::sql::{args_of, function_name, string};
use crate::RouterError;
use crate::infer::inference::schemaless_type;
use crate::infer::set_returning::{from_call, output_names};
use crate::types::PgType;

/// The shard's table-valued function, and the alias a select list's calls join under.
const TABLE: &str = "pg_srf";
const SELECT_LIST_ALIAS: &str = "ls_srf";
/// `pg_srf`'s limits (shard `set_returning::MAX_COLUMNS`, `MAX_ARGUMENTS`).
const MAX_COLUMNS: usize = 8;
const MAX_ARGUMENTS: usize = 16;

/// One call as `pg_srf` runs it: its spec parts (`name/argc`), arguments and Postgres'
/// column names.
struct Call {
    parts: Vec<String>,
    args: Vec<Expr>,
    columns: Vec<String>,
}

/// The set-returning function `name(args)` as `pg_srf` runs it; `None` when `name` is
/// not one.
fn call_of(name: &str, args: &[Expr]) -> Option<Call> {
    let columns = output_names(name, args.len())?;
    let spec = match name {
        // The series of timestamps is the shard's other function; a date's is timestamptz's.
        "generate_series" => {
            let types: Vec<Option<PgType>> = args.iter().map(schemaless_type).collect();
            if types.contains(&Some(PgType::Timestamp)) {
                "generate_series_timestamp"
            } else if types.iter().any(|t| {
                matches!(
                    t,
                    Some(PgType::Timestamptz | PgType::Date | PgType::Interval)
                )
            }) {
                "generate_series_timestamptz"
            } else {
                name
            }
        }
        _ => name,
    };
    // unnest(a, b, ...) is unnest(a), unnest(b), ... side by side.
    let parts = if name == "unnest" {
        vec!["unnest/1".to_owned(); args.len()]
    } else {
        vec![format!("{spec}/{}", args.len())]
    };
    Some(Call {
        parts,
        args: args.to_vec(),
        columns,
    })
}

/// `pg_srf('spec', args...)` as a FROM item under `alias`.
fn table_factor(call: &Call, alias: &str) -> Result<TableFactor, RouterError> {
    if call.columns.len() > MAX_COLUMNS || call.args.len() > MAX_ARGUMENTS {
        return Err(RouterError::unsupported(
            "set-returning functions with more than 8 columns or 16 arguments in one place",
        ));
    }
    let args = std::iter::once(string(&call.parts.join(";")))
        .chain(call.args.iter().cloned())
        .map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
        .collect();
    let Some(Some(mut from)) = super::sql::parse_query(&format!("SELECT 1 FROM {TABLE}(0) AS t"))
        .map(|q| match *q.body {
            SetExpr::Select(s) => s.from.into_iter().next().map(|t| t.relation),
            _ => None,
        })
    else {
        return Err(RouterError::unsupported("set-returning function"));
    };
    if let TableFactor::Table {
        args: Some(table_args),
        alias: table_alias,
        ..
    } = &mut from
    {
        table_args.args = args;
        if let Some(a) = table_alias {
            a.name = Ident::new(alias);
        }
    }
    Ok(from)
}

/// `f(args)` in FROM, of a function that answers one value: `(SELECT f(args) AS f) AS f`,
/// its column and table named after its alias where it has one.
fn scalar_in_from(factor: &TableFactor) -> Option<TableFactor> {
    let scalar = crate::infer::set_returning::scalar_in_from(factor)?;
    let query = super::sql::parse_query(&format!(
        "SELECT {} AS {}",
        scalar.call,
        Ident::with_quote('"', scalar.column)
    ))?;
    Some(TableFactor::Derived {
        lateral: false,
        subquery: query,
        alias: Some(sqlparser::ast::TableAlias {
            explicit: true,
            name: Ident::with_quote('"', scalar.table),
            columns: Vec::new(),
            at: None,
        }),
        sample: None,
    })
}

/// A FROM-clause call's columns: Postgres' name → the `pg_srf` column it reads.
struct Source {
    alias: String,
    columns: Vec<(String, String)>,
}

/// Replaces a set-returning call in FROM by `pg_srf`; the columns it names, if it was one.
fn replace_factor(factor: &mut TableFactor) -> Result<Option<Source>, RouterError> {
    if let Some(row) = scalar_in_from(factor) {
        *factor = row;
        return Ok(None);
    }
    let Some(from) = from_call(factor) else {
        return Ok(None);
    };
    let Some(call) = call_of(&from.name, &from.args) else {
        return Ok(None);
    };
    let table = from.table();
    let names = match from.column_names() {
        Some(Ok(names)) => names,
        Some(Err((available, specified))) => {
            return Err(RouterError {
                sqlstate: "42P10",
                message: format!(
                    "table \"{table}\" has {available} columns available but {specified} columns specified"
                ),
            });
        }
        None => return Ok(None),
    };
    let own = (0..call.columns.len())
        .map(|i| format!("c{i}"))
        .chain(from.with_ordinality.then(|| "ordinality".to_owned()));
    let columns = names.into_iter().zip(own).collect();
    *factor = table_factor(&call, &table)?;
    Ok(Some(Source {
        alias: table,
        columns,
    }))
}

/// Rewrites references to FROM-clause set-returning columns: `key` and `t.key` read
/// `t.c0`. Unqualified names only at the select's own level (a subquery's own tables may
/// have such columns); qualified ones at every depth.
struct ColumnReferences<'a> {
    sources: &'a [Source],
    depth: usize,
}

impl ColumnReferences<'_> {
    fn target(&self, qualifier: Option<&str>, column: &str) -> Option<Expr> {
        self.sources
            .iter()
            .filter(|s| qualifier.is_none_or(|q| q == s.alias))
            .find_map(|s| {
                let (_, own) = s.columns.iter().find(|(name, _)| name == column)?;
                Some(Expr::CompoundIdentifier(vec![
                    Ident::new(&s.alias),
                    Ident::new(own),
                ]))
            })
    }
}

impl VisitorMut for ColumnReferences<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let replacement = match expr {
            Expr::Identifier(i) if self.depth == 0 => self.target(None, &i.value),
            Expr::CompoundIdentifier(parts) if parts.len() == 2 => {
                self.target(Some(&parts[0].value), &parts[1].value)
            }
            _ => None,
        };
        if let Some(r) = replacement {
            *expr = r;
        }
        ControlFlow::Continue(())
    }
}

/// The FROM clause's set-returning calls become `pg_srf`, and the select reads their
/// columns by Postgres' names (including `*`).
fn rewrite_from(
    select: &mut Select,
    order_by: Option<&mut sqlparser::ast::OrderBy>,
) -> Result<(), RouterError> {
    let mut sources = Vec::new();
    let mut qualifiers: Vec<Option<Source>> = Vec::new();
    for table in &mut select.from {
        for factor in std::iter::once(&mut table.relation)
            .chain(table.joins.iter_mut().map(|j| &mut j.relation))
        {
            let source = replace_factor(factor)?;
            qualifiers.push(source.as_ref().map(|s| Source {
                alias: s.alias.clone(),
                columns: s.columns.clone(),
            }));
            sources.extend(source);
        }
    }
    if sources.is_empty() {
        return Ok(());
    }
    let mut references = ColumnReferences {
        sources: &sources,
        depth: 0,
    };
    let mut projection = Vec::with_capacity(select.projection.len());
    for item in std::mem::take(&mut select.projection) {
        match item {
            SelectItem::Wildcard(_) => projection.extend(expand_wildcard(select, &qualifiers)),
            SelectItem::QualifiedWildcard(kind, options) => {
                let qualifier = match &kind {
                    sqlparser::ast::SelectItemQualifiedWildcardKind::ObjectName(name) => name
                        .0
                        .last()
                        .and_then(|p| p.as_ident())
                        .map(|i| i.value.clone()),
                    _ => None,
                };
                match sources
                    .iter()
                    .find(|s| Some(&s.alias) == qualifier.as_ref())
                {
                    Some(s) => projection.extend(source_columns(s)),
                    None => projection.push(SelectItem::QualifiedWildcard(kind, options)),
                }
            }
            // A column keeps its Postgres name once it reads `t.cK`.
            SelectItem::UnnamedExpr(mut e) => {
                let name = match &e {
                    Expr::Identifier(i) => Some(i.clone()),
                    Expr::CompoundIdentifier(parts) => parts.last().cloned(),
                    _ => None,
                };
                let before = e.clone();
                let _ = e.visit(&mut references);
                match name {
                    Some(alias) if e != before => {
                        projection.push(SelectItem::ExprWithAlias { expr: e, alias })
                    }
                    _ => projection.push(SelectItem::UnnamedExpr(e)),
                }
            }
            mut other => {
                let _ = other.visit(&mut references);
                projection.push(other);
            }
        }
    }
    select.projection = projection;
    let _ = select.selection.visit(&mut references);
    let _ = select.having.visit(&mut references);
    let _ = select.group_by.visit(&mut references);
    let _ = select.named_window.visit(&mut references);
    for table in &mut select.from {
        let _ = table.visit(&mut references);
    }
    if let Some(order_by) = order_by {
        let _ = order_by.visit(&mut references);
    }
    Ok(())
}

/// A FROM-clause call's columns, as `t.cK AS name`.
fn source_columns(source: &Source) -> Vec<SelectItem> {
    source
        .columns
        .iter()
        .map(|(name, own)| SelectItem::ExprWithAlias {
            expr: Expr::CompoundIdentifier(vec![Ident::new(&source.alias), Ident::new(own)]),
            alias: Ident::with_quote('"', name),
        })
        .collect()
}

/// `*` over a FROM clause with set-returning calls: each table's `t.*`, each call's
/// columns, in FROM order.
fn expand_wildcard(select: &Select, sources: &[Option<Source>]) -> Vec<SelectItem> {
    let factors = select
        .from
        .iter()
        .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)));
    factors
        .zip(sources)
        .flat_map(|(factor, source)| match source {
            Some(s) => source_columns(s),
            None => vec![qualified_wildcard(factor)],
        })
        .collect()
}

fn qualified_wildcard(factor: &TableFactor) -> SelectItem {
    let qualifier = match factor {
        TableFactor::Table { alias: Some(a), .. } | TableFactor::Derived { alias: Some(a), .. } => {
            ObjectName::from(vec![a.name.clone()])
        }
        TableFactor::Table { name, .. } => name.clone(),
        _ => return SelectItem::Wildcard(Default::default()),
    };
    SelectItem::QualifiedWildcard(
        sqlparser::ast::SelectItemQualifiedWildcardKind::ObjectName(qualifier),
        Default::default(),
    )
}

/// Finds the set-returning calls of a select list (not in its subqueries) and replaces
/// each by the `ls_srf` column it reads.
struct SelectListCalls {
    depth: usize,
    calls: Vec<Call>,
    columns: usize,
}

impl SelectListCalls {
    /// The column a call (or `(call).field`) reads, registering the call.
    fn column_of(
        &mut self,
        name: &str,
        args: &[Expr],
        field: Option<&str>,
    ) -> Option<Result<Expr, RouterError>> {
        let call = call_of(name, args)?;
        let offset = match field {
            Some(f) => call.columns.iter().position(|c| c == f)?,
            // `_pg_expandarray(a)` stands for its element; `(keys).x` reads it back.
            None if name == "_pg_expandarray" => 0,
            None if call.columns.len() == 1 => 0,
            None => {
                return Some(Err(RouterError::unsupported(&format!(
                    "{name}() in a select list (a record of several columns)"
                ))));
            }
        };
        // Postgres takes unnest of several arrays in FROM only.
        if name == "unnest" && call.args.len() > 1 {
            return Some(Err(RouterError::unsupported(
                "unnest() of several arrays in a select list",
            )));
        }
        let first = self.columns;
        self.columns += call.columns.len();
        self.calls.push(call);
        Some(Ok(Expr::CompoundIdentifier(vec![
            Ident::new(SELECT_LIST_ALIAS),
            Ident::new(format!("c{}", first + offset)),
        ])))
    }
}

impl VisitorMut for SelectListCalls {
    type Break = RouterError;

    fn pre_visit_query(&mut self, _: &mut Query) -> ControlFlow<RouterError> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &mut Query) -> ControlFlow<RouterError> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<RouterError> {
        if self.depth > 0 {
            return ControlFlow::Continue(());
        }
        let found = match expr {
            Expr::Function(f) => function_name(f).and_then(|name| {
                let sqlparser::ast::FunctionArguments::List(list) = &f.args else {
                    return None;
                };
                self.column_of(&name, &args_of(&list.args), None)
            }),
            Expr::CompoundFieldAccess { root, access_chain } => {
                match (super::sql::strip_nesting(root), access_chain.as_slice()) {
                    (
                        Expr::Function(f),
                        [sqlparser::ast::AccessExpr::Dot(Expr::Identifier(field))],
                    ) => function_name(f).and_then(|name| {
                        let sqlparser::ast::FunctionArguments::List(list) = &f.args else {
                            return None;
                        };
                        self.column_of(&name, &args_of(&list.args), Some(&field.value))
                    }),
                    _ => None,
                }
            }
            _ => None,
        };
        match found {
            Some(Ok(column)) => *expr = column,
            Some(Err(e)) => return ControlFlow::Break(e),
            None => {}
        }
        ControlFlow::Continue(())
    }
}

/// The select list's set-returning calls join its FROM clause as one `pg_srf`.
fn rewrite_select_list(select: &mut Select) -> Result<(), RouterError> {
    let mut finder = SelectListCalls {
        depth: 0,
        calls: Vec::new(),
        columns: 0,
    };
    for item in &mut select.projection {
        if let ControlFlow::Break(e) = item.visit(&mut finder) {
            return Err(e);
        }
    }
    if finder.calls.is_empty() {
        return Ok(());
    }
    let together = Call {
        parts: finder.calls.iter().flat_map(|c| c.parts.clone()).collect(),
        args: finder.calls.iter().flat_map(|c| c.args.clone()).collect(),
        columns: finder
            .calls
            .iter()
            .flat_map(|c| c.columns.clone())
            .collect(),
    };
    select.from.push(TableWithJoins {
        relation: table_factor(&together, SELECT_LIST_ALIAS)?,
        joins: Vec::new(),
    });
    Ok(())
}

/// The pass: every query's FROM-clause and select-list set-returning calls.
pub(super) struct SetReturningFunctions;

impl VisitorMut for SetReturningFunctions {
    type Break = RouterError;

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<RouterError> {
        let order_by = query.order_by.as_mut();
        if let SetExpr::Select(select) = query.body.as_mut() {
            let done = rewrite_from(select, order_by).and_then(|()| rewrite_select_list(select));
            if let Err(e) = done {
                return ControlFlow::Break(e);
            }
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::sql;

    #[test]
    fn calls_in_from_read_the_shards_table_under_postgres_names() {
        assert_eq!(
            sql("select s from generate_series(1, 3) s"),
            "SELECT s.c0 AS s FROM pg_srf('generate_series/2', 1, 3) AS s"
        );
        assert_eq!(
            sql("select * from generate_series(1, 3) with ordinality"),
            "SELECT generate_series.c0 AS \"generate_series\", generate_series.ordinality AS \"ordinality\" \
             FROM pg_srf('generate_series/2', 1, 3) AS generate_series"
        );
        assert_eq!(
            sql("select key, j.value from jsonb_each('{}') j order by j.key"),
            "SELECT j.c0 AS \"key\", j.c1 AS value FROM pg_srf('jsonb_each/1', '{}') AS j ORDER BY j.c0 NULLS LAST"
        );
        assert_eq!(
            sql("select * from unnest(array[1, 2], array['a']) as x(n, s)"),
            "SELECT x.c0 AS \"n\", x.c1 AS \"s\" FROM pg_srf('unnest/1;unnest/1', pg_array(1, 2), pg_array('a')) AS x"
        );
    }

    #[test]
    fn lateral_calls_read_earlier_tables() {
        assert_eq!(
            sql("select a.id, g from authors a, lateral generate_series(1, a.id) g"),
            "SELECT a.id, g.c0 AS g FROM authors a, pg_srf('generate_series/2', 1, a.id) AS g"
        );
        assert_eq!(
            sql(
                "select t.* , u.* from t join lateral unnest(t.tags) with ordinality u(tag, n) on true"
            ),
            "SELECT t.*, u.c0 AS \"tag\", u.ordinality AS \"n\" FROM t \
             JOIN pg_srf('unnest/1', t.tags) AS u ON true"
        );
    }

    #[test]
    fn calls_in_a_select_list_run_side_by_side_in_from() {
        assert_eq!(
            sql("select generate_series(1, 3) as a, generate_series(1, 2) as b"),
            "SELECT ls_srf.c0 AS a, ls_srf.c1 AS b \
             FROM pg_srf('generate_series/2;generate_series/2', 1, 3, 1, 2) AS ls_srf"
        );
        assert_eq!(
            sql(
                "select indexrelid, unnest(indkey) as attnum, (information_schema._pg_expandarray(indkey)).n as ord from pg_index"
            ),
            "SELECT indexrelid, ls_srf.c0 AS attnum, ls_srf.c2 AS ord FROM pg_index, \
             pg_srf('unnest/1;_pg_expandarray/1', indkey, indkey) AS ls_srf"
        );
        assert!(
            sql("select array(select unnest(a) from t)")
                .contains("FROM t, pg_srf('unnest/1', a) AS ls_srf")
        );
    }

    #[test]
    fn a_function_of_one_value_in_from_is_a_one_row_table() {
        assert_eq!(
            sql("SELECT * FROM current_schema()"),
            "SELECT * FROM (SELECT 'public' AS \"current_schema\") AS \"current_schema\""
        );
        assert_eq!(
            sql("SELECT d FROM current_database() AS d"),
            "SELECT d FROM (SELECT 'shop' AS \"d\") AS \"d\""
        );
    }

    #[test]
    fn calls_keep_parameters() {
        assert_eq!(
            sql("select g from generate_series(1, $1) g"),
            "SELECT g.c0 AS g FROM pg_srf('generate_series/2', 1, ?1) AS g"
        );
    }

    #[test]
    fn a_record_in_a_select_list_is_refused() {
        let refused = crate::plan_in(
            "select jsonb_each('{}')",
            &crate::plan::session::SessionContext::default(),
        );
        assert_eq!(refused.err().map(|e| e.sqlstate), Some("0A000"));
    }
}
