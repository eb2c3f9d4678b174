//! Postgres' schema objects SQLite has none of, each kept in what SQLite has: enum types
//! (a registry table and collations named after their labels), sequences (a one-row table
//! each), materialized views (a table that carries its query). Their SQL functions change
//! the schema only by asking for it (`table_definition::request`), once their statement is
//! done. They must not know partitions or sessions.

mod enum_types;
mod materialized_views;
mod sequences;

use rusqlite::Connection;

/// The objects' SQL functions and collations, on every connection.
pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    enum_types::register(conn)?;
    sequences::register(conn)?;
    materialized_views::register(conn)
}

/// `name` as a SQLite identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
