//! What the router may ask about the schema ([`Schema`]), and the tables a statement
//! names, which are what the caller looks up to answer it.

use std::ops::ControlFlow;

use sqlparser::ast::{CommentObject, CreateTableLikeKind, ObjectName, Statement, visit_relations};

use crate::types::PgType;

/// What the router may ask about the schema. The caller answers from the database; the
/// router never reads it itself.
pub trait Schema {
    /// The Postgres type of `table.column`, if both exist and the declared type is known.
    fn column_type(&self, table: &str, column: &str) -> Option<PgType>;
    /// The table's columns in declaration order (for INSERT without a column list).
    fn columns(&self, table: &str) -> Vec<String>;
    /// `table.column`'s type as declared (`numeric(12,4)`), where the typmod matters.
    fn declared_type(&self, _table: &str, _column: &str) -> Option<String> {
        None
    }
    /// The table's definition as SQLite keeps it, for an ALTER TABLE that must make the
    /// table again.
    fn definition(&self, _table: &str) -> Option<TableDefinition> {
        None
    }
    /// Whether [`Self::definition`] reads the database, so that `None` means the table does
    /// not exist (rather than that nobody has looked yet).
    fn reads_definitions(&self) -> bool {
        false
    }
}

/// A table as SQLite keeps it: its CREATE TABLE, and the indexes and triggers on it (name
/// and SQL, in creation order) that making the table again must make again; and the views
/// whose text names it (name and SQL), whose queries a rename keeps in step.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableDefinition {
    pub create: String,
    pub dependents: Vec<(String, String)>,
    pub views: Vec<(String, String)>,
}

/// For callers that have no schema at hand: every lookup answers "unknown".
pub struct NoSchema;

impl Schema for NoSchema {
    fn column_type(&self, _table: &str, _column: &str) -> Option<PgType> {
        None
    }

    fn columns(&self, _table: &str) -> Vec<String> {
        Vec::new()
    }
}

/// The tables a statement names (see [`relations`]).
pub(crate) fn tables(ast: &Statement) -> Vec<String> {
    let mut tables = relations(ast);
    // The table CREATE TABLE ... (LIKE t) copies, or COMMENT ON comments, whose definition
    // it needs.
    if let Statement::CreateTable(create) = ast
        && let Some(CreateTableLikeKind::Parenthesized(like) | CreateTableLikeKind::Plain(like)) =
            &create.like
    {
        tables.push(last_part(&like.name));
    }
    if let Some((table, _)) = commented(ast) {
        tables.push(table);
    }
    tables
}

/// The tables the foreign keys of a CREATE or ALTER TABLE reference.
pub(crate) fn foreign_key_tables(ast: &mut Statement) -> Vec<&mut ObjectName> {
    use sqlparser::ast::{AlterTableOperation, ColumnDef, ColumnOption, TableConstraint};
    fn of_column(column: &mut ColumnDef) -> impl Iterator<Item = &mut ObjectName> {
        column
            .options
            .iter_mut()
            .filter_map(|o| match &mut o.option {
                ColumnOption::ForeignKey(fk) => Some(&mut fk.foreign_table),
                _ => None,
            })
    }
    fn of_constraint(c: &mut TableConstraint) -> Option<&mut ObjectName> {
        match c {
            TableConstraint::ForeignKey(fk) => Some(&mut fk.foreign_table),
            _ => None,
        }
    }
    let mut found: Vec<&mut ObjectName> = Vec::new();
    match ast {
        Statement::CreateTable(create) => {
            for column in &mut create.columns {
                found.extend(of_column(column));
            }
            found.extend(create.constraints.iter_mut().filter_map(of_constraint));
        }
        Statement::AlterTable(alter) => {
            for op in &mut alter.operations {
                match op {
                    AlterTableOperation::AddConstraint { constraint, .. } => {
                        found.extend(of_constraint(constraint))
                    }
                    AlterTableOperation::AddColumn { column_def, .. } => {
                        found.extend(of_column(column_def))
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    found
}

/// The table (and column) a `COMMENT ON TABLE | COLUMN` comments.
pub(crate) fn commented(ast: &Statement) -> Option<(String, Option<String>)> {
    let Statement::Comment {
        object_type,
        object_name,
        ..
    } = ast
    else {
        return None;
    };
    let parts: Vec<String> = object_name
        .0
        .iter()
        .filter_map(|p| p.as_ident().map(|i| i.value.clone()))
        .collect();
    match object_type {
        CommentObject::Table => Some((parts.last()?.clone(), None)),
        CommentObject::Column => {
            let [.., table, column] = parts.as_slice() else {
                return None;
            };
            Some((table.clone(), Some(column.clone())))
        }
        _ => None,
    }
}

/// Every table a statement or query names, once each, in order of appearance.
pub(super) fn relations<V: sqlparser::ast::Visit>(node: &V) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let _ = visit_relations(node, |name| {
        let t = last_part(name);
        if !out.contains(&t) {
            out.push(t);
        }
        ControlFlow::<()>::Continue(())
    });
    out
}

/// The unqualified name an object name ends in (`public.t` → `t`); an information_schema
/// view keeps its schema (`information_schema.tables`), as the shard names the view.
pub(crate) fn last_part(name: &ObjectName) -> String {
    information_schema_view(name).unwrap_or_else(|| {
        name.0
            .last()
            .and_then(|p| p.as_ident())
            .map(|i| i.value.clone())
            .unwrap_or_default()
    })
}

const INFORMATION_SCHEMA: &str = "information_schema.";

/// The shard's name for `information_schema.x`, the TEMP view `"information_schema.x"`
/// (SQLite has one schema, and a name with a dot in it is no user's table).
pub(crate) fn information_schema_view(name: &ObjectName) -> Option<String> {
    match name.0.as_slice() {
        [schema, view] => {
            let (schema, view) = (schema.as_ident()?, view.as_ident()?);
            schema
                .value
                .eq_ignore_ascii_case(INFORMATION_SCHEMA.trim_end_matches('.'))
                .then(|| format!("{INFORMATION_SCHEMA}{}", view.value.to_ascii_lowercase()))
        }
        _ => None,
    }
}

/// Whether a table name (as [`last_part`] gives it) is an information_schema view.
pub(crate) fn is_information_schema_view(table: &str) -> bool {
    table.starts_with(INFORMATION_SCHEMA)
}
