//! Postgres' SQL functions (`CREATE FUNCTION ... LANGUAGE sql`) on SQLite, whose own
//! functions are Rust's: a database's functions live in its partitions' `_litescale_functions`
//! table (name, argument count, the body's query as SQLite runs it, which the router
//! translated, with its arguments as `?1`, `?2`, ...; the body and types as Postgres shows
//! them). A call runs the body's query on the caller's connection and answers its first
//! row's first value (NULL for no row), as Postgres' SQL functions do.
//!
//! SQLite knows a function only once a connection registers it, and any connection of any
//! process may be the one a call reaches: a statement whose prepare answers `no such
//! function` ([`register_named`]) registers the database's functions of that name and is
//! prepared again. A registered function reads its body at each call, so a function
//! dropped or replaced elsewhere is seen at once.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params_from_iter};

use crate::engine::sql::typecheck::postgres_error;
use crate::engine::table_definition::request;

const REGISTRY: &str = "_litescale_functions";

/// A function's OID is this plus its row in the registry.
const OID_BASE: i64 = 70000;

pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8;
    // (name, argument count, query, or_replace, postgres definition as JSON)
    conn.create_scalar_function("litescale_create_function", 5, flags, |ctx| {
        let name = ctx.get::<String>(0)?;
        let arity = ctx.get::<i64>(1)?;
        let query = ctx.get::<String>(2)?;
        let or_replace = ctx.get::<bool>(3)?;
        let shown = ctx.get::<String>(4)?;
        // SAFETY: the connection is used on this thread, within the call, for reads.
        let conn = unsafe { ctx.get_connection()? };
        if !or_replace && body_of(&conn, &name, arity)?.is_some() {
            return Err(postgres_error(
                "42723",
                &format!("function \"{name}\" already exists with same argument types"),
            ));
        }
        request("litescale_create_function", move |conn| {
            conn.execute_batch(&format!(
                "CREATE TABLE IF NOT EXISTS {REGISTRY} (name TEXT NOT NULL, arity INTEGER NOT NULL, \
                 query TEXT NOT NULL, shown TEXT NOT NULL, PRIMARY KEY (name, arity))"
            ))?;
            conn.execute(
                &format!(
                    "INSERT OR REPLACE INTO {REGISTRY} (name, arity, query, shown) \
                     VALUES (?1, ?2, ?3, ?4)"
                ),
                rusqlite::params![name, arity, query, shown],
            )?;
            register_one(conn, &name, arity)
        })?;
        Ok(Value::Null)
    })?;
    // (name, argument count or NULL for any, if_exists)
    conn.create_scalar_function("litescale_drop_function", 3, flags, |ctx| {
        let name = ctx.get::<String>(0)?;
        let arity = ctx.get::<Option<i64>>(1)?;
        let if_exists = ctx.get::<bool>(2)?;
        // SAFETY: the connection is used on this thread, within the call, for reads.
        let conn = unsafe { ctx.get_connection()? };
        let found = arities(&conn, &name)?
            .into_iter()
            .any(|a| arity.is_none_or(|wanted| wanted == a));
        if !found {
            if if_exists {
                return Ok(Value::Null);
            }
            return Err(postgres_error(
                "42883",
                &format!("function {name} does not exist"),
            ));
        }
        request("litescale_drop_function", move |conn| {
            conn.execute(
                &format!("DELETE FROM {REGISTRY} WHERE name = ?1 AND (?2 IS NULL OR arity = ?2)"),
                rusqlite::params![name, arity],
            )
            .map(drop)
        })?;
        Ok(Value::Null)
    })?;
    // The catalog's list (sql/catalog): [[oid, name, arity, postgres definition], ...] as
    // JSON.
    conn.create_scalar_function("litescale_functions", 0, flags, |ctx| {
        // SAFETY: the connection is used on this thread, within the call, for reads.
        let conn = unsafe { ctx.get_connection()? };
        super::registry_json(
            &conn,
            REGISTRY,
            &format!("SELECT rowid, name, arity, shown FROM {REGISTRY} ORDER BY rowid"),
            |r| {
                let (row, name, arity, shown): (i64, String, i64, String) =
                    (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
                let shown: serde_json::Value = serde_json::from_str(&shown).unwrap_or_default();
                Ok(serde_json::json!([row + OID_BASE, name, arity, shown]))
            },
        )
    })
}

/// After `error` from preparing a statement: registers the database's functions named as
/// SQLite's `no such function: <name>` says, answering whether there were any (and the
/// statement should be prepared again).
pub(crate) fn register_named(conn: &Connection, error: &rusqlite::Error) -> bool {
    let message = match error {
        rusqlite::Error::SqlInputError { msg, .. } => msg.as_str(),
        rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.as_str(),
        _ => return false,
    };
    let Some(name) = message.strip_prefix("no such function: ") else {
        return false;
    };
    let Ok(arities) = arities(conn, name) else {
        return false;
    };
    !arities.is_empty()
        && arities
            .into_iter()
            .all(|arity| register_one(conn, name, arity).is_ok())
}

fn register_one(conn: &Connection, name: &str, arity: i64) -> rusqlite::Result<()> {
    let owned = name.to_owned();
    conn.create_scalar_function(name, arity as i32, FunctionFlags::SQLITE_UTF8, move |ctx| {
        call(ctx, &owned, arity)
    })
}

fn call(ctx: &Context<'_>, name: &str, arity: i64) -> rusqlite::Result<Value> {
    // SAFETY: the connection is used on this thread, within the call.
    let conn = unsafe { ctx.get_connection()? };
    let Some(query) = body_of(&conn, name, arity)? else {
        return Err(postgres_error(
            "42883",
            &format!("function {name} does not exist"),
        ));
    };
    let arguments = (0..ctx.len())
        .map(|i| ctx.get::<Value>(i))
        .collect::<rusqlite::Result<Vec<Value>>>()?;
    // Cached under the caller's role: SQLite authorizes a statement when it prepares it.
    let mut statement = conn.prepare_cached(&crate::engine::privileges::keyed(&query))?;
    let arguments = &arguments[..arguments.len().min(statement.parameter_count())];
    statement
        .query_row(params_from_iter(arguments), |r| r.get::<_, Value>(0))
        .optional()
        .map(|v| v.unwrap_or(Value::Null))
}

fn body_of(conn: &Connection, name: &str, arity: i64) -> rusqlite::Result<Option<String>> {
    super::read_registry(conn, REGISTRY, || {
        conn.prepare_cached(&format!(
            "SELECT query FROM {REGISTRY} WHERE name = ?1 COLLATE NOCASE AND arity = ?2"
        ))?
        .query_row(rusqlite::params![name, arity], |r| r.get(0))
        .optional()
    })
}

fn arities(conn: &Connection, name: &str) -> rusqlite::Result<Vec<i64>> {
    super::read_registry(conn, REGISTRY, || {
        conn.prepare_cached(&format!(
            "SELECT arity FROM {REGISTRY} WHERE name = ?1 COLLATE NOCASE"
        ))?
        .query_map([name], |r| r.get(0))?
        .collect()
    })
}
