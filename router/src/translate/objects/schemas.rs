//! Schemas other than public (shard engine/objects/schemas.rs): an object of schema `s`
//! is SQLite's `"s.t"`, in the same file as public's. [`qualify`] writes every `s.t` a
//! statement names so, first, so that everything after it (classification, routing,
//! inference, translation) sees one name, SQLite's. A name with a dot is therefore
//! taken as schema-qualified: `CREATE TABLE "a.b"` makes `b` in schema `a`.

use std::ops::ControlFlow;

use crate::infer::schema::Schema;
use crate::parse::lexical::is_built_in_schema;
use sqlparser::ast::{
    AlterIndexOperation, AlterTableOperation, CommentObject, Expr, Grant, GrantObjects, Ident,
    ObjectName, ObjectNamePart, ObjectType, RenameTableNameKind, Revoke,
    SelectItemQualifiedWildcardKind, Statement, TableAliasWithoutColumns, TableConstraint,
    TableFactor, TableObject, VisitMut, VisitorMut, visit_relations_mut,
};

/// `[s, t]` of a schema of the database's own: its schema and name.
fn schema_and_name(name: &ObjectName) -> Option<(String, String)> {
    let [
        ObjectNamePart::Identifier(schema),
        ObjectNamePart::Identifier(object),
    ] = name.0.as_slice()
    else {
        return None;
    };
    let (schema, object) = (folded(schema), folded(object));
    // `temp.t` is SQLite's temporary table, which classify/temporary.rs refuses.
    (!is_built_in_schema(&schema)).then_some((schema, object))
}

/// An identifier as Postgres reads it: folded to lower case unless quoted.
pub(super) fn folded(ident: &Ident) -> String {
    match ident.quote_style {
        Some(_) => ident.value.clone(),
        None => ident.value.to_lowercase(),
    }
}

/// SQLite's name of `object` in `schema`.
fn stored(schema: &str, object: &str) -> ObjectName {
    ObjectName::from(vec![Ident::with_quote('"', format!("{schema}.{object}"))])
}

/// `s.t` → `"s.t"`; the name that was qualified, if it was.
fn qualify_name(name: &mut ObjectName) -> Option<(String, String)> {
    let (schema, object) = schema_and_name(name)?;
    *name = stored(&schema, &object);
    Some((schema, object))
}

/// `name`, unless qualified, placed in `schema` (an index or a renamed table stays in its
/// table's schema).
fn place_in(name: &mut ObjectName, schema: &str) {
    if qualify_name(name).is_some() {
        return;
    }
    if let [ObjectNamePart::Identifier(object)] = name.0.as_slice() {
        *name = stored(schema, &folded(object));
    }
}

/// Writes the names of objects of the database's own schemas as SQLite keeps them (see the
/// module's comment). A table read as `s.t` without an alias gets the alias `t`, so that
/// `t.c` and `s.t.c` still name its columns.
pub(crate) fn qualify(ast: &mut Statement) {
    let _ = ast.visit(&mut QualifiedTables);
    each_relation_name(ast, |name| {
        qualify_name(name);
    });
    match ast {
        Statement::CreateSequence { name, .. } => {
            qualify_name(name);
        }
        Statement::Grant(Grant {
            objects: Some(GrantObjects::Tables(names) | GrantObjects::Sequences(names)),
            ..
        })
        | Statement::Revoke(Revoke {
            objects: Some(GrantObjects::Tables(names) | GrantObjects::Sequences(names)),
            ..
        }) => {
            for name in names {
                qualify_name(name);
            }
        }
        Statement::AlterIndex {
            name,
            operation: AlterIndexOperation::RenameIndex { index_name },
        } => {
            if let Some((schema, _)) = qualify_name(name) {
                place_in(index_name, &schema);
            }
        }
        Statement::CreateIndex(index) => {
            if let Some((schema, _)) = schema_of_stored(&index.table_name)
                && let Some(name) = &mut index.name
            {
                place_in(name, &schema);
            }
        }
        Statement::CreateTable(create) => {
            if let Some((schema, _)) = schema_of_stored(&create.name) {
                for constraint in &mut create.constraints {
                    place_constraint(constraint, &schema);
                }
                for column in &mut create.columns {
                    for option in &mut column.options {
                        place_ident(option.name.as_mut(), &schema);
                    }
                }
            }
        }
        Statement::AlterTable(alter) => {
            if let Some((schema, _)) = schema_of_stored(&alter.name) {
                for op in &mut alter.operations {
                    match op {
                        AlterTableOperation::RenameTable {
                            table_name: RenameTableNameKind::To(to) | RenameTableNameKind::As(to),
                        } => place_in(to, &schema),
                        AlterTableOperation::AddConstraint { constraint, .. } => {
                            place_constraint(constraint, &schema);
                        }
                        AlterTableOperation::DropConstraint { name, .. } => {
                            place_ident(Some(name), &schema);
                        }
                        AlterTableOperation::RenameConstraint { old_name, new_name } => {
                            place_ident(Some(old_name), &schema);
                            place_ident(Some(new_name), &schema);
                        }
                        AlterTableOperation::AddColumn { column_def, .. } => {
                            for option in &mut column_def.options {
                                place_ident(option.name.as_mut(), &schema);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        Statement::Comment {
            object_type,
            object_name,
            ..
        } => match object_type {
            // `s.t.c`: the column `c` of `"s.t"`.
            CommentObject::Column if object_name.0.len() == 3 => {
                let column = object_name.0.pop();
                if qualify_name(object_name).is_some() {
                    object_name.0.extend(column);
                } else if let Some(column) = column {
                    object_name.0.push(column);
                }
            }
            // `t.c`: the column `c` of public's `t`.
            CommentObject::Column => {}
            _ => {
                qualify_name(object_name);
            }
        },
        _ => {}
    }
}

/// Every name of a relation `ast` names: those sqlparser visits as relations, the tables
/// its foreign keys reference, and what a DROP of tables, views, indexes, sequences or
/// materialized views drops.
fn each_relation_name(ast: &mut Statement, mut each: impl FnMut(&mut ObjectName)) {
    let _ = visit_relations_mut(ast, |name| {
        each(name);
        ControlFlow::<()>::Continue(())
    });
    for reference in crate::infer::schema::foreign_key_tables(ast) {
        each(reference);
    }
    if let Statement::Drop {
        object_type:
            ObjectType::Table
            | ObjectType::View
            | ObjectType::Index
            | ObjectType::Sequence
            | ObjectType::MaterializedView,
        names,
        ..
    } = ast
    {
        names.iter_mut().for_each(each);
    }
}

/// A constraint's name in `schema`: constraint names, like index names, are their
/// schema's, and SQLite keeps the names of a table's constraints and indexes beside
/// public's.
fn place_ident(name: Option<&mut Ident>, schema: &str) {
    if let Some(name) = name
        && !name.value.starts_with(&format!("{schema}."))
    {
        *name = Ident::with_quote('"', format!("{schema}.{}", folded(name)));
    }
}

fn place_constraint(constraint: &mut TableConstraint, schema: &str) {
    let name = match constraint {
        TableConstraint::Unique(c) => c.name.as_mut(),
        TableConstraint::PrimaryKey(c) => c.name.as_mut(),
        TableConstraint::ForeignKey(c) => c.name.as_mut(),
        TableConstraint::Check(c) => c.name.as_mut(),
        _ => None,
    };
    place_ident(name, schema);
}

/// The schema and name of a name [`qualify`] wrote (`"s.t"`).
fn schema_of_stored(name: &ObjectName) -> Option<(String, String)> {
    let [ObjectNamePart::Identifier(only)] = name.0.as_slice() else {
        return None;
    };
    split_stored(&only.value)
}

/// SQLite's name `s.t` as its schema and name; `None` for a name of public.
pub(super) fn split_stored(name: &str) -> Option<(String, String)> {
    let (schema, object) = name.split_once('.')?;
    (!is_built_in_schema(schema)).then(|| (schema.to_owned(), object.to_owned()))
}

/// The schema an object a statement creates goes in, if not public: CREATE checks that it
/// exists (3F000), as SQLite would otherwise make the object under any name.
pub(in crate::translate) fn created_in(ast: &Statement) -> Option<String> {
    let name = match ast {
        Statement::CreateTable(create) => &create.name,
        Statement::CreateView(view) => &view.name,
        Statement::CreateSequence { name, .. } => name,
        Statement::CreateIndex(index) => index.name.as_ref()?,
        _ => return None,
    };
    schema_of_stored(name).map(|(schema, _)| schema)
}

/// Tables read as `s.t` and columns named `s.t.c`.
struct QualifiedTables;

impl VisitorMut for QualifiedTables {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table { name, alias, .. } = factor
            && alias.is_none()
            && let Some((_, object)) = schema_and_name(name)
        {
            *alias = Some(sqlparser::ast::TableAlias {
                explicit: true,
                name: Ident::with_quote('"', object),
                columns: Vec::new(),
                at: None,
            });
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_statement(&mut self, statement: &mut Statement) -> ControlFlow<()> {
        if let Statement::Insert(insert) = statement
            && insert.table_alias.is_none()
            && let TableObject::TableName(name) = &insert.table
            && let Some((_, object)) = schema_and_name(name)
        {
            insert.table_alias = Some(TableAliasWithoutColumns {
                explicit: true,
                alias: Ident::with_quote('"', object),
            });
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Expr::CompoundIdentifier(parts) = expr
            && parts.len() == 3
            && !is_built_in_schema(&folded(&parts[0]))
        {
            parts.remove(0);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, query: &mut sqlparser::ast::Query) -> ControlFlow<()> {
        if let sqlparser::ast::SetExpr::Select(select) = query.body.as_mut() {
            for item in &mut select.projection {
                if let sqlparser::ast::SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(name),
                    _,
                ) = item
                    && let Some((_, object)) = schema_and_name(name)
                {
                    *name = ObjectName::from(vec![Ident::new(object)]);
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// A query's text with its tables named as Postgres writes them (`s.t`, not SQLite's
/// `"s.t"`): what a view keeps as its definition, for pg_get_viewdef and pg_dump.
pub(in crate::translate) fn as_written(query: &sqlparser::ast::Query) -> String {
    let mut query = query.clone();
    let _ = visit_relations_mut(&mut query, |name| {
        if let Some((schema, object)) = schema_of_stored(name) {
            *name = ObjectName::from(vec![
                crate::translate::sql::identifier(&schema),
                crate::translate::sql::identifier(&object),
            ]);
        }
        ControlFlow::<()>::Continue(())
    });
    query.to_string()
}

/// The unqualified names of `ast` as the search path `path` reads them: a relation is the
/// first schema's of the path that has it (by `schema`'s columns), and what a CREATE makes
/// goes in the path's first schema; then [`qualify`] writes them as SQLite's names. A name
/// no schema of the path has stays public's (its error names it as written). Names of the
/// statement's CTEs are not looked up.
pub(crate) fn resolve(ast: &mut Statement, path: &[String], schema: &dyn Schema) {
    let ctes = cte_names(ast);
    let unqualified = |name: &ObjectName| match name.0.as_slice() {
        [ObjectNamePart::Identifier(only)] if !only.value.contains('.') => Some(only.value.clone()),
        _ => None,
    };
    let created = match ast {
        Statement::CreateTable(create) => Some(&mut create.name),
        Statement::CreateView(view) => Some(&mut view.name),
        Statement::CreateSequence { name, .. } => Some(name),
        _ => None,
    };
    if let Some(name) = created
        && let Some(object) = unqualified(name)
        && let Some(first) = path.first().filter(|s| *s != "public")
    {
        *name = ObjectName::from(vec![Ident::new(first.clone()), Ident::new(object)]);
    }
    let found = |object: &str| {
        path.iter().find(|s| {
            let stored = if *s == "public" {
                object.to_owned()
            } else {
                format!("{s}.{object}")
            };
            !schema.columns(&stored).is_empty()
        })
    };
    let place = |name: &mut ObjectName| {
        if let Some(object) = unqualified(name)
            && !ctes.contains(&object.to_ascii_lowercase())
            && let Some(schema) = found(&object).filter(|s| *s != "public")
        {
            *name = ObjectName::from(vec![Ident::new(schema.clone()), Ident::new(object)]);
        }
    };
    each_relation_name(ast, place);
    qualify(ast);
}

/// The names a statement's WITH clauses give their queries, in lower case.
fn cte_names(ast: &mut Statement) -> Vec<String> {
    struct Ctes(Vec<String>);
    impl VisitorMut for Ctes {
        type Break = ();
        fn pre_visit_query(&mut self, query: &mut sqlparser::ast::Query) -> ControlFlow<()> {
            if let Some(with) = &query.with {
                self.0.extend(
                    with.cte_tables
                        .iter()
                        .map(|c| c.alias.name.value.to_ascii_lowercase()),
                );
            }
            ControlFlow::Continue(())
        }
    }
    let mut ctes = Ctes(Vec::new());
    let _ = ast.visit(&mut ctes);
    ctes.0
}
