//! Postgres' schema objects SQLite has none of, each kept in what SQLite has: enum types
//! (a registry table and collations named after their labels), sequences (a one-row table
//! each), materialized views (a table that carries its query), schemas (a registry, and a prefix on
//! the names of what is in them), views renamed (made again under the new name). Their SQL functions change
//! the schema only by asking for it (`table_definition::request`), once their statement is
//! done. Comments on those of them that are not tables or columns, and privileges
//! (annotations/);
//! SQL functions (functions.rs); domains (domains.rs: a column's definition, written into
//! the tables whose columns take them). They must not know partitions or sessions.

mod annotations;
mod domains;
mod enum_types;
pub(crate) mod functions;
pub(crate) mod identity;
mod materialized_views;
mod schemas;
mod sequences;
mod views;

pub(crate) use sequences::{BlockValues, in_block};

use rusqlite::{Connection, OptionalExtension};

use crate::engine::sql::catalog::marks::{marked_json, read_marked};
use crate::engine::sql::typecheck::postgres_error;
use annotations::comments;

/// The objects' SQL functions and collations, on every connection.
pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    annotations::comments::register(conn)?;
    domains::register(conn)?;
    enum_types::register(conn)?;
    functions::register(conn)?;
    annotations::grants::register(conn)?;
    identity::register(conn)?;
    sequences::register(conn)?;
    schemas::register(conn)?;
    views::register(conn)?;
    materialized_views::register(conn)
}

/// `name` as a SQLite identifier.
pub(crate) fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The table or view named `name` (SQLite's names ignore case): its name as SQLite keeps
/// it, and its CREATE text.
fn relation(conn: &Connection, name: &str) -> rusqlite::Result<Option<(String, String)>> {
    conn.query_row(
        "SELECT name, coalesce(sql, '') FROM main.sqlite_schema \
         WHERE type IN ('table', 'view') AND name = ?1 COLLATE NOCASE",
        [name],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// The rows `query` reads from the registry `registry` (none before it is made), each made
/// JSON by `row`, as the JSON array the catalog's views read.
fn registry_json(
    conn: &Connection,
    registry: &str,
    query: &str,
    row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<serde_json::Value>,
) -> rusqlite::Result<String> {
    let rows: Vec<serde_json::Value> = read_registry(conn, registry, || {
        conn.prepare(query)?.query_map([], row)?.collect()
    })?;
    Ok(serde_json::Value::Array(rows).to_string())
}

/// What `read` reads from litescale's registry table `registry`, read as litescale;
/// nothing (`T::default()`) before the registry is first made.
fn read_registry<T: Default>(
    conn: &Connection,
    registry: &str,
    read: impl FnOnce() -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    crate::engine::guard::as_litescale(|| {
        if table_exists(conn, registry)? {
            read()
        } else {
            Ok(T::default())
        }
    })
}

/// Whether the database has the table `name` (a registry of litescale's, made when first
/// needed).
fn table_exists(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM main.sqlite_schema WHERE name = ?1)")?
        .query_row([name], |r| r.get(0))
}

/// 42703 unless `table` has `column`.
fn check_column(conn: &Connection, table: &str, column: &str) -> rusqlite::Result<()> {
    let found: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2)",
        [table, column],
        |r| r.get(0),
    )?;
    if !found {
        return Err(postgres_error(
            "42703",
            &format!("column \"{column}\" of relation \"{table}\" does not exist"),
        ));
    }
    Ok(())
}
