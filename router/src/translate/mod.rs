//! PostgreSQL SQL → SQLite SQL, on sqlparser's AST. Each rewrite keeps Postgres' meaning;
//! what cannot be kept is refused with 0A000 rather than run differently. Knows no routing.
//!
//! One file per concern, in dependency order: `sql` (building blocks) ← `catalog`
//! (pg_catalog names and lookups) ← `expressions/` (operators, functions, dates, literals,
//! casts); `query` (query shape) ← `queries/` (constructs SQLite lacks), `set_returning` (set-returning functions in FROM and select lists) and
//! `columns` ← `ddl` stand beside them. [`translate`] runs the passes in order.

mod catalog;
pub(crate) mod columns;
mod ddl;
mod expressions;
mod queries;
mod query;
mod set_returning;
pub(crate) mod sql;

use std::ops::ControlFlow;

use sqlparser::ast::{Statement, VisitMut};

pub(crate) use queries::fetch_as_limit;

use crate::RouterError;
use crate::plan::session::SessionContext;

/// The SQLite text of a statement, and whether it is several SQLite statements (a batch)
/// that must run together, atomically, without parameters.
pub(crate) struct Translated {
    pub sql: String,
    pub batch: bool,
}

fn single(sql: String) -> Translated {
    Translated { sql, batch: false }
}

fn batch(statements: Vec<String>) -> Translated {
    if statements.len() == 1 {
        return single(statements.into_iter().next().unwrap_or_default());
    }
    Translated {
        sql: statements.join(";\n"),
        batch: true,
    }
}

/// The SQLite text of `ast`. The passes run in this order: each sees what the ones before
/// it made (function calls are rewritten after the select list is named after them, casts
/// after the functions that produce them).
pub(crate) fn translate(
    mut ast: Statement,
    ctx: &SessionContext,
) -> Result<Translated, RouterError> {
    queries::rewrite(&mut ast)?;
    query::name_result_columns(&mut ast);
    catalog::unqualify_catalog_names(&mut ast);
    let _ = ast.visit(&mut catalog::RegclassOutput);
    if let ControlFlow::Break(e) = ast.visit(&mut set_returning::SetReturningFunctions) {
        return Err(e);
    }
    let _ = ast.visit(&mut query::DerivedColumnAliases);
    let _ = ast.visit(&mut query::PostgresNullOrder);
    let _ = ast.visit(&mut catalog::SchemaWithoutInternals);
    expressions::rewrite(&mut ast, ctx)?;
    query::disambiguate_upsert_select(&mut ast);
    Ok(batch(ddl::sqlite_statements(ast)?))
}
