//! Postgres' materialized views on SQLite, which has none: a table of the view's name,
//! made by `CREATE TABLE mv AS <query>` (the router sends it as the tenant's own
//! statement), whose definition then carries the query SQLite runs, the query as the
//! client wrote it (pg_get_viewdef, pg_dump) and whether it holds rows, in a comment:
//! `/* litescale:matview {"query": ..., "postgres": ..., "populated": true} */`. Its
//! columns keep the declared types of the columns they come from (SQLite's CREATE TABLE AS
//! writes only affinities), so clients see Postgres' types. REFRESH runs the query again
//! into it, in the refreshing statement's transaction.

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};

use crate::engine::sql::typecheck::postgres_error;
use crate::engine::table_definition::{request, write_definition};

use super::{marked_json, quoted, read_marked, relation};

/// Where a materialized view's definition keeps its queries.
const MARK: &str = "/* litescale:matview ";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Queries {
    /// The query as SQLite runs it.
    query: String,
    /// The query as the client wrote it.
    postgres: String,
    populated: bool,
    /// The types of its columns the router inferred from its query, where it could.
    #[serde(default, skip_serializing)]
    types: Vec<Option<String>>,
}

pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8;
    // (name, queries as JSON): after the CREATE TABLE ... AS that made its rows.
    conn.create_scalar_function("litescale_mark_matview", 2, flags, |ctx| {
        let name = ctx.get::<String>(0)?;
        let queries: Queries = serde_json::from_str(&ctx.get::<String>(1)?)
            .map_err(|e| postgres_error("22023", &e.to_string()))?;
        // SAFETY: the connection is used on this thread, within the call, for reads.
        let conn = unsafe { ctx.get_connection()? };
        let columns = typed_columns(&conn, &name, &queries)?;
        request("litescale_mark_matview", move |conn| {
            write_definition(conn, &name, &definition(&name, &columns, &queries))
        })?;
        Ok(Value::Null)
    })?;
    // (name, with_data)
    conn.create_scalar_function("litescale_refresh_matview", 2, flags, |ctx| {
        let name = ctx.get::<String>(0)?;
        let with_data = ctx.get::<bool>(1)?;
        // SAFETY: the connection is used on this thread, within the call.
        let conn = unsafe { ctx.get_connection()? };
        // Postgres refuses to refresh another relation with 0A000.
        let (name, mut queries) =
            matview(&conn, &name).map_err(|e| match relation(&conn, &name) {
                Ok(Some(_)) => {
                    postgres_error("0A000", &format!("\"{name}\" is not a materialized view"))
                }
                _ => e,
            })?;
        let table = quoted(&name);
        conn.execute(&format!("DELETE FROM {table}"), [])?;
        if with_data {
            conn.execute(
                &format!("INSERT INTO {table} SELECT * FROM ({})", queries.query),
                [],
            )?;
        }
        if queries.populated != with_data {
            queries.populated = with_data;
            let columns = declared_columns(&conn, &name)?;
            request("litescale_refresh_matview", move |conn| {
                write_definition(conn, &name, &definition(&name, &columns, &queries))
            })?;
        }
        Ok(Value::Null)
    })?;
    // (name, if_exists)
    conn.create_scalar_function("litescale_drop_matview", 2, flags, |ctx| {
        let name = ctx.get::<String>(0)?;
        // SAFETY: the connection is used on this thread, within the call, for reads.
        let conn = unsafe { ctx.get_connection()? };
        let name = match matview(&conn, &name) {
            Ok((name, _)) => name,
            Err(_) if ctx.get::<bool>(1)? && relation(&conn, &name)?.is_none() => {
                return Ok(Value::Null);
            }
            Err(e) => return Err(e),
        };
        request("litescale_drop_matview", move |conn| {
            conn.execute_batch(&format!("DROP TABLE {}", quoted(&name)))
        })?;
        Ok(Value::Null)
    })?;
    // The catalog's: whether a definition is a materialized view's that holds rows, and
    // the query it keeps as its client wrote it (pg_get_viewdef's form); NULL for another
    // relation's.
    let deterministic = flags | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("pg_matview_populated", 1, deterministic, |ctx| {
        Ok(ctx
            .get::<Option<String>>(0)?
            .and_then(|sql| queries_in(&sql))
            .map(|q| q.populated))
    })?;
    conn.create_scalar_function("pg_matview_query", 1, deterministic, |ctx| {
        Ok(ctx
            .get::<Option<String>>(0)?
            .and_then(|sql| queries_in(&sql))
            .map(|q| format!(" {};", q.postgres.trim())))
    })
}

fn queries_in(sql: &str) -> Option<Queries> {
    read_marked(sql, MARK)
}

fn definition(name: &str, columns: &[(String, String)], queries: &Queries) -> String {
    let columns: Vec<String> = columns
        .iter()
        .map(|(column, declared)| format!("{} {declared}", quoted(column)))
        .collect();
    format!(
        "CREATE TABLE {} ({} {})",
        quoted(name),
        columns.join(", "),
        marked_json(MARK, queries)
    )
}

/// The view's columns, each with the declared type of the column its query reads it from
/// where it reads one (with its length or precision), else the type the router inferred,
/// else the affinity CREATE TABLE ... AS gave it.
fn typed_columns(
    conn: &Connection,
    name: &str,
    queries: &Queries,
) -> rusqlite::Result<Vec<(String, String)>> {
    let statement = conn.prepare(&queries.query)?;
    let origins: Vec<Option<String>> = statement
        .columns()
        .map(|c| c.decl_type().map(str::to_owned))
        .collect();
    Ok(declared_columns(conn, name)?
        .into_iter()
        .enumerate()
        .map(|(at, (column, affinity))| {
            let declared = origins
                .get(at)
                .cloned()
                .flatten()
                .or_else(|| queries.types.get(at).cloned().flatten())
                .unwrap_or(affinity);
            (column, declared)
        })
        .collect())
}

fn declared_columns(conn: &Connection, name: &str) -> rusqlite::Result<Vec<(String, String)>> {
    conn.prepare("SELECT name, type FROM pragma_table_info(?1) ORDER BY cid")?
        .query_map([name], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

/// The materialized view `name` (42P01 if there is none, 42809 for another relation).
fn matview(conn: &Connection, name: &str) -> rusqlite::Result<(String, Queries)> {
    match relation(conn, name)? {
        Some((name, sql)) => match queries_in(&sql) {
            Some(queries) => Ok((name, queries)),
            None => Err(postgres_error(
                "42809",
                &format!("\"{name}\" is not a materialized view"),
            )),
        },
        None => Err(postgres_error(
            "42P01",
            &format!("materialized view \"{name}\" does not exist"),
        )),
    }
}
