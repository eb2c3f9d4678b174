//! COMMENT ON what is not a table or a column (those keep theirs in the table's own text,
//! router translate/alter/comments.rs): views, materialized views, indexes and sequences
//! keep theirs in their CREATE text, right after `CREATE`, as
//! `CREATE /* litescale:comment "the text" */ VIEW ...`, so a comment goes with its object
//! when it is dropped (with its table, its schema, ...) and stays through a rename; schemas
//! and enum types, which live in registries, keep theirs in `_litescale_comments` by name,
//! forgotten when they are dropped. The catalog (sql/catalog) reads both back for
//! obj_description and pg_description.

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OptionalExtension};

use crate::engine::sql::typecheck::postgres_error;
use crate::engine::table_definition::{request, write_schema_text};

use crate::engine::sql::catalog::marks::{acl_in, carried, comment_in, with_comment};

/// Where comments on schemas and types are kept.
const REGISTRY: &str = "_litescale_comments";

pub(in crate::engine::objects) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8;
    // (kind as COMMENT ON names it, object name, text or NULL to remove it)
    conn.create_scalar_function("litescale_comment_on", 3, flags, |ctx| {
        let (kind, name) = (ctx.get::<String>(0)?, ctx.get::<String>(1)?);
        let text = ctx.get::<Option<String>>(2)?;
        // SAFETY: the connection is used on this thread, within the call, for reads.
        let conn = unsafe { ctx.get_connection()? };
        match kind.as_str() {
            "SCHEMA" | "TYPE" => {
                check_registered(&conn, &kind, &name)?;
                request("litescale_comment_on", move |conn| {
                    keep(conn, &kind, &name, text.as_deref())
                })?;
            }
            _ => {
                let (sqlite_type, sqlite_name, sql) = relation_of_kind(&conn, &kind, &name)?;
                request("litescale_comment_on", move |conn| {
                    let written = with_comment(&sql, text.as_deref());
                    write_schema_text(conn, &sqlite_type, &sqlite_name, &written)
                })?;
            }
        }
        Ok(rusqlite::types::Null)
    })?;
    // The comments on schemas and types: [[kind, name, text], ...] as JSON.
    conn.create_scalar_function("litescale_registered_comments", 0, flags, |ctx| {
        // SAFETY: the connection is used on this thread, within the call, for reads.
        let conn = unsafe { ctx.get_connection()? };
        super::super::registry_json(
            &conn,
            REGISTRY,
            &format!("SELECT kind, name, comment FROM {REGISTRY}"),
            |r| {
                let (kind, name, comment): (String, String, String) =
                    (r.get(0)?, r.get(1)?, r.get(2)?);
                Ok(serde_json::json!([kind, name, comment]))
            },
        )
    })
}

/// Gives the object `kind` `name`, just made again from `old` (SQLite writes its own
/// text, without what follows `CREATE`), `old`'s comment and privileges.
pub(in crate::engine::objects) fn carry(
    conn: &Connection,
    old: &str,
    kind: &str,
    name: &str,
) -> rusqlite::Result<()> {
    if comment_in(old).is_none() && acl_in(old).is_none() {
        return Ok(());
    }
    let new: String = conn.query_row(
        "SELECT sql FROM main.sqlite_schema WHERE type = ?1 AND name = ?2 COLLATE NOCASE",
        [kind, name],
        |r| r.get(0),
    )?;
    write_schema_text(conn, kind, name, &carried(old, &new))
}

/// Forgets the comment on a schema or type that is dropped.
pub(in crate::engine::objects) fn forget(
    conn: &Connection,
    kind: &str,
    name: &str,
) -> rusqlite::Result<()> {
    if super::super::table_exists(conn, REGISTRY)? {
        conn.execute(
            &format!("DELETE FROM {REGISTRY} WHERE kind = ?1 AND name = ?2"),
            [kind, name],
        )?;
    }
    Ok(())
}

/// The SQLite object COMMENT ON `kind` `name` names: its type in sqlite_schema, its name
/// there and its text; 42P01 when there is none, 42809 when it is of another kind.
fn relation_of_kind(
    conn: &Connection,
    kind: &str,
    name: &str,
) -> rusqlite::Result<(String, String, String)> {
    let found: Option<(String, Option<String>, Option<String>)> = conn
        .query_row(
            "SELECT type, sqlite_name, sql FROM ls_relation WHERE name = ?1 COLLATE NOCASE",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((found_kind, sqlite_name, sql)) = found else {
        return Err(postgres_error(
            "42P01",
            &format!("relation \"{name}\" does not exist"),
        ));
    };
    let (wanted, article) = match kind {
        "VIEW" => ("view", "a view"),
        "MATERIALIZED VIEW" => ("matview", "a materialized view"),
        "INDEX" => ("index", "an index"),
        "SEQUENCE" => ("sequence", "a sequence"),
        other => {
            return Err(postgres_error(
                "0A000",
                &format!("COMMENT ON {other} is not supported by litescale"),
            ));
        }
    };
    if found_kind != wanted {
        return Err(postgres_error(
            "42809",
            &format!("\"{name}\" is not {article}"),
        ));
    }
    let (Some(sqlite_name), Some(sql)) = (sqlite_name, sql) else {
        // A PRIMARY KEY or UNIQUE constraint's index, which SQLite makes from the table's
        // text and keeps no text of its own for.
        return Err(postgres_error(
            "0A000",
            &format!(
                "COMMENT ON INDEX {name} (the index of a constraint) is not supported by litescale"
            ),
        ));
    };
    let sqlite_type = if matches!(wanted, "matview" | "sequence") {
        "table"
    } else {
        wanted
    };
    Ok((sqlite_type.to_owned(), sqlite_name, sql))
}

/// 3F000 / 42704 unless the schema or type exists.
fn check_registered(conn: &Connection, kind: &str, name: &str) -> rusqlite::Result<()> {
    let query = if kind == "SCHEMA" {
        "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = ?1)"
    } else {
        "SELECT EXISTS (SELECT 1 FROM ls_enum WHERE typname = ?1)"
    };
    let exists: bool = conn.query_row(query, [name], |r| r.get(0))?;
    match (exists, kind) {
        (true, _) => Ok(()),
        (false, "SCHEMA") => Err(postgres_error(
            "3F000",
            &format!("schema \"{name}\" does not exist"),
        )),
        (false, _) => Err(postgres_error(
            "42704",
            &format!("type \"{name}\" does not exist"),
        )),
    }
}

fn keep(conn: &Connection, kind: &str, name: &str, text: Option<&str>) -> rusqlite::Result<()> {
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {REGISTRY} \
         (kind TEXT NOT NULL, name TEXT NOT NULL, comment TEXT NOT NULL, PRIMARY KEY (kind, name))"
    ))?;
    match text {
        Some(text) => conn.execute(
            &format!("INSERT OR REPLACE INTO {REGISTRY} (kind, name, comment) VALUES (?1, ?2, ?3)"),
            [kind, name, text],
        )?,
        None => conn.execute(
            &format!("DELETE FROM {REGISTRY} WHERE kind = ?1 AND name = ?2"),
            [kind, name],
        )?,
    };
    Ok(())
}
