//! PostgreSQL SQL → SQLite SQL, on sqlparser's AST. Each rewrite keeps Postgres' meaning;
//! what cannot be kept is refused with 0A000 rather than run differently. Knows no routing.
//!
//! One file per concern, in dependency order: `sql` (building blocks) ← `catalog`
//! (pg_catalog names and lookups) ← `expressions/` (operators, functions, dates, literals,
//! casts); `query` (query shape) ← `queries/` (constructs SQLite lacks), `set_returning` (set-returning functions in FROM and select lists) and
//! `columns` ← `alter/` ← `ddl` stand beside them; `typed` (the schema's column types made explicit)
//! runs before the expression passes. [`translate`] runs the passes in order.

mod alter;
mod catalog;
pub(crate) mod columns;
mod ddl;
mod expressions;
pub(crate) mod modifying_with;
pub(crate) mod objects;
mod queries;
mod query;
mod set_returning;
pub(crate) mod sql;
mod typed;

use std::ops::ControlFlow;

use sqlparser::ast::{Statement, VisitMut};

pub(crate) use queries::fetch_as_limit;

use crate::RouterError;
use crate::infer::schema::Schema;
use crate::plan::session::SessionContext;

/// The SQLite text of a statement, and whether it is several SQLite statements (a batch)
/// that must run together, atomically, without parameters.
pub(crate) struct Translated {
    pub sql: String,
    pub batch: bool,
    /// A column whose type the schema did not give stood where its type would change the
    /// text: with the tables' columns, the translation may differ.
    pub needs_schema: bool,
}

impl Translated {
    /// No text yet: only the schema can settle the translation.
    pub(crate) fn deferred() -> Translated {
        Translated {
            sql: String::new(),
            batch: false,
            needs_schema: true,
        }
    }
}

/// Whether a refusal is one the tables' columns may lift (`pg_typeof(column)`,
/// `row_to_json(table)`): the plan made with them before the statement runs answers or
/// refuses it.
pub(crate) fn awaits_column_types(e: &RouterError) -> bool {
    e.sqlstate == "0A000"
        && [
            expressions::PG_TYPEOF_OF_COLUMNS,
            expressions::ROW_TO_JSON_OF_COLUMNS,
        ]
        .iter()
        .any(|construct| e.message.contains(construct))
}

/// `definition_written`: an ALTER TABLE, COMMENT ON or a statement on an enum type, which
/// may ask the engine to write a table's definition over, which only a batch does (shard
/// engine/table_definition.rs).
fn batch(statements: Vec<String>, needs_schema: bool, definition_written: bool) -> Translated {
    let several = statements.len() > 1;
    Translated {
        sql: statements.join(";\n"),
        batch: several || definition_written,
        needs_schema,
    }
}

/// The SQLite text of `ast`. The passes run in this order: each sees what the ones before
/// it made (function calls are rewritten after the select list is named after them, casts
/// after the functions that produce them).
pub(crate) fn translate(
    mut ast: Statement,
    ctx: &SessionContext,
    schema: &dyn Schema,
) -> Result<Translated, RouterError> {
    objects::grants::check_grantees(&ast, ctx)?;
    if let Statement::CreateDomain(domain) = &ast {
        let sql = objects::domains::create(domain, |template| {
            let Statement::CreateTable(create) = template else {
                return Ok(());
            };
            for column in &mut create.columns {
                columns::add_type_rules(column);
            }
            columns::parenthesize_defaults(create);
            expressions::rewrite(template, ctx)?;
            sql::render_strings_as_written(template);
            Ok(())
        })?;
        return Ok(batch(vec![sql], false, true));
    }
    columns::bare_literal_defaults(&mut ast);
    columns::keep_check_texts(&mut ast);
    let overriding = columns::take_overriding(&mut ast)?;
    let view_query = match &ast {
        Statement::CreateView(view) => Some(objects::schemas::as_written(&view.query)),
        _ => None,
    };
    // A materialized view's columns take the types its query answers, which need its
    // tables' columns: it is planned again with them (`needs_schema`).
    let matview_types = match &ast {
        Statement::CreateView(view) if view.materialized => {
            Some(crate::infer::inference::projection_types(
                &Statement::Query(view.query.clone()),
                schema,
                &[],
            ))
        }
        _ => None,
    };
    let inserted_asks = typed::check_inserted(&ast, schema)?;
    query::refuse_unknown_qualifiers(&ast)?;
    // FOR UPDATE / FOR SHARE: the statement runs on the partition's writer (its kind says
    // so), which locks more than the rows; SQLite has no such clause.
    if let Statement::Query(query) = &mut ast {
        query.locks.clear();
    }
    // The client's scalar subqueries, before the passes add subqueries of their own.
    if let ControlFlow::Break(e) = ast.visit(&mut query::ScalarSubqueries::default()) {
        return Err(e);
    }
    queries::rewrite(&mut ast)?;
    query::name_result_columns(&mut ast);
    let needs_schema =
        typed::make_types_explicit(&mut ast, schema)? || inserted_asks || matview_types.is_some();
    catalog::unqualify_catalog_names(&mut ast);
    catalog::catalog_table_oids(&mut ast);
    let _ = ast.visit(&mut catalog::ObjectIdentifierOutput);
    if let ControlFlow::Break(e) = ast.visit(&mut set_returning::SetReturningFunctions) {
        return Err(e);
    }
    let _ = ast.visit(&mut query::DerivedColumnAliases);
    let _ = ast.visit(&mut query::ColumnlessSubqueries::default());
    let _ = ast.visit(&mut query::PostgresNullOrder);
    let _ = ast.visit(&mut catalog::SchemaWithoutInternals);
    let _ = ast.visit(&mut query::QuotedLimits);
    let _ = ast.visit(&mut query::KeywordLabels);
    expressions::rewrite(&mut ast, ctx)?;
    query::disambiguate_upsert_select(&mut ast);
    sql::render_strings_as_written(&mut ast);
    let definition_written = matches!(
        ast,
        Statement::AlterTable(_)
            | Statement::Comment { .. }
            | Statement::DropFunction(_)
            | Statement::DropDomain(_)
            | Statement::CreateType { .. }
            | Statement::AlterType(_)
            | Statement::CreateSequence { .. }
            | Statement::RefreshMaterializedView(_)
            | Statement::CreateSchema { .. }
            | Statement::Truncate(_)
            | Statement::Grant(_)
            | Statement::Revoke(_)
            | Statement::Drop {
                object_type: sqlparser::ast::ObjectType::Type
                    | sqlparser::ast::ObjectType::Sequence
                    | sqlparser::ast::ObjectType::MaterializedView
                    | sqlparser::ast::ObjectType::Schema,
                ..
            }
    );
    let schema_checked = objects::schemas::created_in(&ast).map(|s| {
        format!(
            "SELECT litescale_schema_check({})",
            crate::parse::lexical::string_literal(&s)
        )
    });
    let view = view_query.map(|postgres| ddl::ViewQuery {
        postgres,
        types: matview_types.unwrap_or_default(),
    });
    match ddl::sqlite_statements(ast, schema, view.as_ref())? {
        Some(mut statements) => Ok(batch(
            {
                if overriding && let Some(insert) = statements.last_mut() {
                    insert.push_str(columns::OVERRIDING_MARK);
                }
                schema_checked.into_iter().chain(statements).collect()
            },
            needs_schema,
            definition_written,
        )),
        // An ALTER TABLE that makes the table again needs its definition.
        None => Ok(Translated::deferred()),
    }
}
