//! The views that read a renamed table or column keep the query their client wrote (in
//! Postgres' SQL, which pg_get_viewdef and pg_dump answer) in step: SQLite rewrites its own
//! text of them, not that one. A renamed table is read under its old name as an alias, so
//! the query's qualified columns still name it; a renamed column is read under its new
//! name where the query names it through the table (qualified, or unqualified where the
//! table is the only one its SELECT reads), keeping its old name as the output column's, as
//! Postgres' view does. The new text goes to the shard (engine/objects/views.rs).

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, Ident, ObjectName, ObjectNamePart, Query, Select, SelectItem, SetExpr, Statement,
    TableAlias, TableFactor, TableWithJoins, VisitMut, VisitorMut,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::parse::lexical::string_literal;
use crate::translate::sql::render_strings_as_written;

/// What an ALTER TABLE renames.
pub(in crate::translate) enum Rename<'a> {
    Table {
        old: &'a str,
        new: &'a str,
    },
    Column {
        table: &'a str,
        old: &'a str,
        new: &'a str,
    },
}

/// Where a view's CREATE text keeps the query as the client wrote it (in Postgres' SQL,
/// before translation), which pg_get_viewdef and pg_dump answer (translate/ddl.rs writes
/// it; shard catalog definitions.rs reads it).
pub(in crate::translate) const POSTGRES_QUERY_MARK: &str = "/* litescale:postgres ";

/// The shard's calls that give each of `views` (name, CREATE text) that reads what
/// `rename` renames its query made anew.
pub(in crate::translate) fn rewritten(
    views: &[(String, String)],
    rename: &Rename<'_>,
) -> Vec<String> {
    views
        .iter()
        .filter_map(|(name, sql)| {
            let kept = sql
                .rfind(POSTGRES_QUERY_MARK)
                .map(|at| &sql[at + POSTGRES_QUERY_MARK.len()..])?
                .trim_end()
                .strip_suffix("*/")?;
            let mut parsed = Parser::parse_sql(&PostgreSqlDialect {}, kept).ok()?;
            let Some(Statement::Query(query)) = parsed.first_mut() else {
                return None;
            };
            let mut renamer = Renamer {
                rename,
                changed: false,
            };
            let _ = query.visit(&mut renamer);
            if !renamer.changed {
                return None;
            }
            render_strings_as_written(query);
            Some(format!(
                "SELECT litescale_set_view_query({}, {})",
                string_literal(name),
                string_literal(&query.to_string())
            ))
        })
        .collect()
}

struct Renamer<'r, 'a> {
    rename: &'r Rename<'a>,
    changed: bool,
}

/// Whether `name` (a relation's, as the query writes it) is `table` (SQLite's name: `t`,
/// or `s.t` in a schema other than public).
fn names(name: &ObjectName, table: &str) -> bool {
    let idents: Vec<&Ident> = name.0.iter().filter_map(|p| p.as_ident()).collect();
    match (idents.as_slice(), table.split_once('.')) {
        ([schema, object], Some((s, t))) => same(schema, s) && same(object, t),
        ([schema, object], None) => {
            ["public", "pg_catalog"].contains(&schema.value.to_ascii_lowercase().as_str())
                && same(object, table)
        }
        ([object], None) => same(object, table),
        _ => false,
    }
}

/// The unqualified name of SQLite's `s.t` or `t`.
fn object(stored: &str) -> &str {
    stored.split_once('.').map_or(stored, |(_, object)| object)
}

/// An identifier as Postgres compares it with a stored name.
fn same(ident: &Ident, name: &str) -> bool {
    match ident.quote_style {
        Some(_) => ident.value == name,
        None => ident.value.eq_ignore_ascii_case(name),
    }
}

impl VisitorMut for Renamer<'_, '_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if let Rename::Column { table, old, new } = self.rename {
            rename_column_in(&mut query.body, table, old, new, &mut self.changed);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        if let (Rename::Table { old, new }, TableFactor::Table { name, alias, .. }) =
            (self.rename, factor)
            && names(name, old)
        {
            if alias.is_none() {
                *alias = Some(TableAlias {
                    explicit: true,
                    name: Ident::new(object(old)),
                    columns: Vec::new(),
                    at: None,
                });
            }
            if let Some(ObjectNamePart::Identifier(last)) = name.0.last_mut() {
                *last = Ident::new(object(new));
            }
            self.changed = true;
        }
        ControlFlow::Continue(())
    }
}

/// Renames the column in each SELECT of `body` that reads `table`.
fn rename_column_in(body: &mut SetExpr, table: &str, old: &str, new: &str, changed: &mut bool) {
    match body {
        SetExpr::Select(select) => rename_column(select, table, old, new, changed),
        SetExpr::SetOperation { left, right, .. } => {
            rename_column_in(left, table, old, new, changed);
            rename_column_in(right, table, old, new, changed);
        }
        _ => {}
    }
}

fn rename_column(select: &mut Select, table: &str, old: &str, new: &str, changed: &mut bool) {
    let factors = |from: &[TableWithJoins]| -> Vec<(bool, Option<String>)> {
        from.iter()
            .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)))
            .map(|f| match f {
                TableFactor::Table { name, alias, .. } => (
                    names(name, table),
                    Some(alias.as_ref().map_or_else(
                        || {
                            name.0
                                .last()
                                .and_then(|p| p.as_ident())
                                .map(|i| i.value.clone())
                                .unwrap_or_default()
                        },
                        |a| a.name.value.clone(),
                    )),
                ),
                _ => (false, None),
            })
            .collect()
    };
    let read = factors(&select.from);
    let qualifiers: Vec<String> = read
        .iter()
        .filter(|(is_table, _)| *is_table)
        .filter_map(|(_, q)| q.clone())
        .collect();
    if qualifiers.is_empty() {
        return;
    }
    let alone = read.len() == 1;
    let renames = |expr: &Expr| match expr {
        Expr::Identifier(i) => alone && same(i, old),
        Expr::CompoundIdentifier(parts) => {
            parts.len() == 2
                && same(&parts[1], old)
                && qualifiers
                    .iter()
                    .any(|q| parts[0].value.eq_ignore_ascii_case(q))
        }
        _ => false,
    };
    // The output column keeps its name, as in Postgres.
    for item in &mut select.projection {
        if let SelectItem::UnnamedExpr(expr) = item
            && renames(expr)
        {
            *item = SelectItem::ExprWithAlias {
                expr: expr.clone(),
                alias: Ident::new(old),
            };
        }
    }
    let mut columns = ColumnRenamer {
        renames: &renames,
        new,
        changed: false,
    };
    for item in &mut select.projection {
        let _ = item.visit(&mut columns);
    }
    let _ = select.selection.visit(&mut columns);
    let _ = select.group_by.visit(&mut columns);
    let _ = select.having.visit(&mut columns);
    for joined in &mut select.from {
        let _ = joined.joins.visit(&mut columns);
    }
    *changed |= columns.changed;
}

struct ColumnRenamer<'f, F: Fn(&Expr) -> bool> {
    renames: &'f F,
    new: &'f str,
    changed: bool,
}

impl<F: Fn(&Expr) -> bool> VisitorMut for ColumnRenamer<'_, F> {
    type Break = ();

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if (self.renames)(expr) {
            match expr {
                Expr::Identifier(i) => *i = Ident::new(self.new),
                Expr::CompoundIdentifier(parts) => parts[1] = Ident::new(self.new),
                _ => {}
            }
            self.changed = true;
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(query: &str) -> Vec<(String, String)> {
        vec![(
            "v".to_owned(),
            format!("CREATE VIEW v AS SELECT 1 {POSTGRES_QUERY_MARK}{query} */"),
        )]
    }

    #[test]
    fn a_renamed_table_is_read_under_its_old_name() {
        assert_eq!(
            rewritten(
                &view("SELECT t.a, b FROM t WHERE t.a > 'x'"),
                &Rename::Table { old: "t", new: "u" }
            ),
            ["SELECT litescale_set_view_query('v', 'SELECT t.a, b FROM u AS t WHERE t.a > ''x''')"]
        );
        assert!(
            rewritten(
                &view("SELECT a FROM other"),
                &Rename::Table { old: "t", new: "u" }
            )
            .is_empty()
        );
    }

    #[test]
    fn a_renamed_column_keeps_its_name_in_the_view() {
        assert_eq!(
            rewritten(
                &view("SELECT a, a + 1 AS n FROM t WHERE a > 0 ORDER BY a"),
                &Rename::Column {
                    table: "t",
                    old: "a",
                    new: "b"
                }
            ),
            [
                "SELECT litescale_set_view_query('v', 'SELECT b AS a, b + 1 AS n FROM t WHERE b > 0 ORDER BY a')"
            ]
        );
        // Beside another table only through the table.
        assert_eq!(
            rewritten(
                &view("SELECT x.a, o.a FROM t AS x JOIN o ON o.id = x.a"),
                &Rename::Column {
                    table: "t",
                    old: "a",
                    new: "b"
                }
            ),
            [
                "SELECT litescale_set_view_query('v', 'SELECT x.b AS a, o.a FROM t AS x JOIN o ON o.id = x.b')"
            ]
        );
    }
}
