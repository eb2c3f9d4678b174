//! Postgres' schemas other than public. A schema's objects live beside public's in each
//! partition's SQLite file, under the name `<schema>.<name>` (`"s.t"`, `"s.t_pkey"`), so
//! that a transaction across schemas stays one SQLite transaction, replicated and failed
//! over as one; the router (translate/objects/schemas.rs) writes `s.t` so. The registry
//! `_litescale_schemas` keeps the schemas themselves, so that an empty one exists; the
//! catalog (sql/catalog) reads it through `litescale_schemas()` and splits an object's
//! name at the dot where the part before it is a schema.

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OptionalExtension};

use crate::engine::sql::identifiers::quote_ident;
use crate::engine::sql::typecheck::postgres_error;
use crate::engine::table_definition::request;

use super::quoted;

const REGISTRY: &str = "_litescale_schemas";

/// A schema's OID is this plus its row in the registry.
const OID_BASE: i64 = 80000;

/// The schemas every database has, which no CREATE SCHEMA makes.
const BUILT_IN: &[&str] = &["public", "pg_catalog", "information_schema"];

pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8;
    // Deterministic: the registry does not change while a statement reads it, and SQLite
    // then reads it once per statement, not once per relation the catalog lists.
    conn.create_scalar_function(
        "litescale_schemas",
        0,
        flags | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            // SAFETY: the connection is used on this thread, within the call, for reads.
            let conn = unsafe { ctx.get_connection()? };
            let rows: Vec<serde_json::Value> = all_schemas(&conn)?
                .into_iter()
                .map(|(oid, name, owner)| serde_json::json!([oid, name, owner]))
                .collect();
            Ok(serde_json::Value::Array(rows).to_string())
        },
    )?;
    // The schema of an object SQLite names `<schema>.<name>`, as JSON `[oid, name]`; NULL
    // when the part before the dot is no schema (the catalog's ls_relation).
    conn.create_scalar_function("litescale_schema_of", 1, flags, |ctx| {
        let name = ctx.get::<String>(0)?;
        let Some((schema, _)) = name.split_once('.') else {
            return Ok(None);
        };
        // SAFETY: the connection is used on this thread, within the call, for a read.
        let conn = unsafe { ctx.get_connection()? };
        Ok(oid_of(&conn, schema)?
            .map(|oid| serde_json::json!([oid + OID_BASE, schema]).to_string()))
    })?;
    // 3F000 unless the schema exists: what CREATE of an object in it checks first.
    conn.create_scalar_function("litescale_schema_check", 1, flags, |ctx| {
        let name = ctx.get::<String>(0)?;
        // SAFETY: the connection is used on this thread, within the call, for a read.
        let conn = unsafe { ctx.get_connection()? };
        if exists(&conn, &name)? {
            Ok(true)
        } else {
            Err(missing(&name))
        }
    })?;
    // (name, if not exists, owner)
    conn.create_scalar_function("litescale_create_schema", 3, flags, |ctx| {
        let name = ctx.get::<String>(0)?;
        let if_not_exists = ctx.get::<bool>(1)?;
        let owner = ctx.get::<String>(2)?;
        request("litescale_create_schema", move |conn| {
            create(conn, &name, if_not_exists, &owner)
        })?;
        Ok(rusqlite::types::Null)
    })?;
    // (name, if exists, cascade)
    conn.create_scalar_function("litescale_drop_schema", 3, flags, |ctx| {
        let name = ctx.get::<String>(0)?;
        let if_exists = ctx.get::<bool>(1)?;
        let cascade = ctx.get::<bool>(2)?;
        request("litescale_drop_schema", move |conn| {
            drop_schema(conn, &name, if_exists, cascade)
        })?;
        Ok(rusqlite::types::Null)
    })
}

/// SQLite's name of an object as Postgres writes it qualified: `public.t`, `s.t`.
pub(super) fn qualified(name: &str) -> String {
    let (schema, object) = name.split_once('.').unwrap_or(("public", name));
    format!("{}.{}", quote_ident(schema), quote_ident(object))
}

fn missing(name: &str) -> rusqlite::Error {
    postgres_error("3F000", &format!("schema \"{name}\" does not exist"))
}

/// Every schema but the built-in ones: (OID, name, owner).
fn all_schemas(conn: &Connection) -> rusqlite::Result<Vec<(i64, String, String)>> {
    super::read_registry(conn, REGISTRY, || {
        conn.prepare(&format!(
            "SELECT oid + {OID_BASE}, name, owner FROM {REGISTRY} ORDER BY oid"
        ))?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect()
    })
}

fn oid_of(conn: &Connection, name: &str) -> rusqlite::Result<Option<i64>> {
    super::read_registry(conn, REGISTRY, || {
        conn.query_row(
            &format!("SELECT oid FROM {REGISTRY} WHERE name = ?1"),
            [name],
            |r| r.get(0),
        )
        .optional()
    })
}

/// Whether the database has the schema `name`, built in or made.
fn exists(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    Ok(BUILT_IN.contains(&name) || oid_of(conn, name)?.is_some())
}

fn create(conn: &Connection, name: &str, if_not_exists: bool, owner: &str) -> rusqlite::Result<()> {
    if exists(conn, name)? {
        if if_not_exists {
            return Ok(());
        }
        return Err(postgres_error(
            "42P06",
            &format!("schema \"{name}\" already exists"),
        ));
    }
    if matches!(name, "main" | "temp") {
        return Err(postgres_error(
            "0A000",
            &format!("CREATE SCHEMA {name} is not supported by litescale: SQLite's own name"),
        ));
    }
    if name.starts_with("pg_") {
        return Err(postgres_error(
            "42939",
            &format!("unacceptable schema name \"{name}\""),
        ));
    }
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {REGISTRY} \
         (oid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, owner TEXT NOT NULL)"
    ))?;
    conn.execute(
        &format!("INSERT INTO {REGISTRY} (name, owner) VALUES (?1, ?2)"),
        [name, owner],
    )?;
    Ok(())
}

/// The schema's tables, views, sequences and materialized views, views first and the
/// newest first, so that each goes before what it was made on.
fn contents(conn: &Connection, name: &str) -> rusqlite::Result<Vec<(String, String)>> {
    conn.prepare(
        "SELECT type, name FROM main.sqlite_schema \
         WHERE type IN ('table', 'view') AND substr(name, 1, length(?1) + 1) = ?1 || '.' \
         ORDER BY type = 'view' DESC, rowid DESC",
    )?
    .query_map([name], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}

/// A table outside schema `name` whose foreign key references one in it: (that table, the
/// referenced one).
fn referenced_from_outside(
    conn: &Connection,
    name: &str,
) -> rusqlite::Result<Option<(String, String)>> {
    conn.query_row(
        "SELECT o.name, f.\"table\" FROM main.sqlite_schema o, pragma_foreign_key_list(o.name) f \
         WHERE o.type = 'table' AND substr(o.name, 1, length(?1) + 1) <> ?1 || '.' \
           AND substr(f.\"table\", 1, length(?1) + 1) = ?1 || '.' COLLATE NOCASE",
        [name],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

fn drop_schema(
    conn: &Connection,
    name: &str,
    if_exists: bool,
    cascade: bool,
) -> rusqlite::Result<()> {
    if BUILT_IN.contains(&name) {
        return Err(postgres_error(
            "0A000",
            &format!("DROP SCHEMA {name} is not supported by litescale"),
        ));
    }
    let Some(oid) = oid_of(conn, name)? else {
        return if if_exists {
            Ok(())
        } else {
            Err(missing(name))
        };
    };
    let objects = contents(conn, name)?;
    if !objects.is_empty() && !cascade {
        return Err(postgres_error(
            "2BP01",
            &format!("cannot drop schema {name} because other objects depend on it"),
        ));
    }
    // Postgres would drop the foreign keys of other schemas' tables that reference these
    // and keep their rows; SQLite's DROP TABLE deletes the rows first, which those foreign
    // keys refuse or cascade to their rows. Refused, naming it, as DROP TABLE CASCADE is.
    if let Some((table, referenced)) = referenced_from_outside(conn, name)? {
        return Err(postgres_error(
            "0A000",
            &format!(
                "DROP SCHEMA {name} CASCADE while the foreign keys of {table} reference \
                 {referenced} is not supported by litescale (their rows would go with it); \
                 drop those foreign keys first"
            ),
        ));
    }
    // Tables of the schema that reference each other go in any order.
    conn.execute_batch("PRAGMA defer_foreign_keys = ON")?;
    for (kind, object) in &objects {
        let kind = if kind == "view" { "VIEW" } else { "TABLE" };
        conn.execute_batch(&format!("DROP {kind} main.{}", quoted(object)))?;
    }
    conn.execute(&format!("DELETE FROM {REGISTRY} WHERE oid = ?1"), [oid])?;
    super::comments::forget(conn, "SCHEMA", name)
}
