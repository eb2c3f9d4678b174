//! TRUNCATE ... CASCADE: the tables whose foreign keys reference a truncated table, and
//! theirs in turn, are emptied with it, as Postgres empties them. The router empties the
//! named tables itself (`DELETE FROM`); this empties the others first, as an edit its
//! statement asks for (table_definition::request), so all of it is one batch.

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;

use crate::engine::objects::quoted;
use crate::engine::table_definition::request;

pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    // (table, restart identity)
    conn.create_scalar_function(
        "litescale_truncate_referencing",
        2,
        FunctionFlags::SQLITE_UTF8,
        |ctx| {
            let table = ctx.get::<String>(0)?;
            let restart = ctx.get::<bool>(1)?;
            request("litescale_truncate_referencing", move |conn| {
                empty_referencing(conn, &table, restart)
            })?;
            Ok(rusqlite::types::Null)
        },
    )
}

/// The tables that reference `table` through foreign keys, directly or through others,
/// without `table` itself.
fn referencing(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    conn.prepare(
        "WITH RECURSIVE referencing(name) AS ( \
           SELECT ?1 \
           UNION \
           SELECT s.name FROM main.sqlite_schema s, pragma_foreign_key_list(s.name) f, \
             referencing r \
           WHERE s.type = 'table' AND f.\"table\" = r.name COLLATE NOCASE) \
         SELECT name FROM referencing WHERE name <> ?1 COLLATE NOCASE",
    )?
    .query_map([table], |r| r.get(0))?
    .collect()
}

fn empty_referencing(conn: &Connection, table: &str, restart: bool) -> rusqlite::Result<()> {
    let tables = referencing(conn, table)?;
    if tables.is_empty() {
        return Ok(());
    }
    // Emptied in any order: the foreign keys among them hold once all are empty, and are
    // checked as they come again after.
    conn.execute_batch("PRAGMA defer_foreign_keys = ON")?;
    for name in &tables {
        // Emptied as litescale, but only with the role's TRUNCATE on each.
        crate::engine::privileges::check(name, &[crate::engine::privileges::Privileges::TRUNCATE])?;
        conn.execute_batch(&format!("DELETE FROM main.{}", quoted(name)))?;
        if restart {
            conn.query_row("SELECT litescale_restart_identity(?1)", [name], |_| Ok(()))?;
        }
    }
    conn.execute_batch("PRAGMA defer_foreign_keys = OFF")
}
