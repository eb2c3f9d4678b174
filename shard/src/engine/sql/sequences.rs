//! The sequences behind SERIAL and IDENTITY columns. Such a column is SQLite's rowid alias
//! with AUTOINCREMENT (router translate/columns.rs), whose last number SQLite keeps in
//! sqlite_sequence: the sequence Postgres names `<table>_<column>_seq` is that row.
//! `pg_get_serial_sequence` names it, `setval` and `nextval` move it (the next row gets
//! the number after the larger of it and the table's largest), `litescale_restart_identity`
//! empties it (TRUNCATE ... RESTART IDENTITY). They run on the writer (the router sends
//! statements that call them there), and like the rest of a transaction, and unlike
//! Postgres' sequences, a rollback takes their change back. Standalone sequences (CREATE
//! SEQUENCE) are not here: the router refuses them.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::{Connection, OptionalExtension};

use super::typecheck::postgres_error;

pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8;
    conn.create_scalar_function("pg_get_serial_sequence", 2, flags, |ctx| {
        let table = unquoted(&ctx.get::<String>(0)?);
        let column = unquoted(&ctx.get::<String>(1)?);
        // SAFETY: the connection is used on this thread, within the call, for reads.
        let conn = unsafe { ctx.get_connection()? };
        Ok(serial_column(&conn, &table)?
            .filter(|c| c.eq_ignore_ascii_case(&column))
            .map(|c| format!("public.{table}_{c}_seq")))
    })?;
    for arity in [2, 3] {
        conn.create_scalar_function("setval", arity, flags, |ctx| {
            let Some(name) = ctx.get::<Option<String>>(0)? else {
                return Ok(None);
            };
            let value = ctx.get::<i64>(1)?;
            let called = ctx.len() < 3 || ctx.get::<bool>(2)?;
            with_sequence(ctx, &name, |conn, table, _| {
                store(conn, table, if called { value } else { value - 1 })?;
                Ok(value)
            })
            .map(Some)
        })?;
    }
    conn.create_scalar_function("nextval", 1, flags, |ctx| {
        let name = ctx.get::<String>(0)?;
        with_sequence(ctx, &name, |conn, table, column| {
            let last: i64 = conn.query_row(
                &format!(
                    "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?1), 0), \
                     coalesce((SELECT max(\"{}\") FROM \"{}\"), 0))",
                    column.replace('"', "\"\""),
                    table.replace('"', "\"\"")
                ),
                [table],
                |r| r.get(0),
            )?;
            store(conn, table, last + 1)?;
            Ok(last + 1)
        })
    })?;
    conn.create_scalar_function("litescale_restart_identity", 1, flags, |ctx| {
        let table = ctx.get::<String>(0)?;
        // SAFETY: the connection is used on this thread, within the call.
        let conn = unsafe { ctx.get_connection()? };
        if serial_column(&conn, &table)?.is_some() {
            conn.execute(
                "DELETE FROM sqlite_sequence WHERE name = ?1 COLLATE NOCASE",
                [&table],
            )?;
        }
        Ok(rusqlite::types::Null)
    })
}

/// `"auth_group"` → `auth_group`; `public.t_id_seq` → `t_id_seq`.
fn unquoted(name: &str) -> String {
    let last = name.rsplit('.').next().unwrap_or(name);
    last.trim().trim_matches('"').to_owned()
}

/// The rowid alias of `table` when it numbers rows with AUTOINCREMENT.
fn serial_column(conn: &Connection, table: &str) -> rusqlite::Result<Option<String>> {
    let autoincrement: bool = conn
        .query_row(
            "SELECT sql LIKE '%AUTOINCREMENT%' FROM sqlite_schema \
             WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
            [table],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(false);
    if !autoincrement {
        return Ok(None);
    }
    conn.query_row(
        "SELECT name FROM pragma_table_info(?1) WHERE pk = 1 AND lower(type) = 'integer' \
         AND (SELECT count(*) FROM pragma_table_info(?1) WHERE pk > 0) = 1",
        [table],
        |r| r.get(0),
    )
    .optional()
}

/// Runs `job` on the table and column whose sequence `name` is; 42P01 for another name.
fn with_sequence<T>(
    ctx: &Context<'_>,
    name: &str,
    job: impl FnOnce(&Connection, &str, &str) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let sequence = unquoted(name);
    // SAFETY: the connection is used on this thread, within the call.
    let conn = unsafe { ctx.get_connection()? };
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%'",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for table in tables {
        if let Some(column) = serial_column(&conn, &table)?
            && format!("{table}_{column}_seq").eq_ignore_ascii_case(&sequence)
        {
            return job(&conn, &table, &column);
        }
    }
    Err(postgres_error(
        "42P01",
        &format!("relation \"{sequence}\" does not exist"),
    ))
}

/// Makes `last` the table's last number, whether or not sqlite_sequence has its row yet.
fn store(conn: &Connection, table: &str, last: i64) -> rusqlite::Result<()> {
    let changed = conn.execute(
        "UPDATE sqlite_sequence SET seq = ?2 WHERE name = ?1 COLLATE NOCASE",
        rusqlite::params![table, last],
    )?;
    if changed == 0 {
        conn.execute(
            "INSERT INTO sqlite_sequence (name, seq) VALUES (?1, ?2)",
            rusqlite::params![table, last],
        )?;
    }
    Ok(())
}
