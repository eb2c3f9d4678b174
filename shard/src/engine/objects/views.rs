//! Renaming a table or a view (`ALTER TABLE x RENAME TO y`): SQLite's ALTER TABLE takes no
//! view, so a view is made again under its new name from its own text, in the same
//! transaction; a table is renamed by SQLite. And a view's Postgres query (what
//! pg_get_viewdef answers) written anew when a table or column it reads is renamed
//! (router translate/alter/dependent_views.rs).

use rusqlite::{Connection, OptionalExtension};

use crate::engine::sql::catalog::definitions::POSTGRES_QUERY_MARK;
use crate::engine::sql::typecheck::postgres_error;
use crate::engine::table_definition::{request, write_schema_text};

use super::quoted;

pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "litescale_rename_relation",
        2,
        rusqlite::functions::FunctionFlags::SQLITE_UTF8,
        |ctx| {
            let (from, to) = (ctx.get::<String>(0)?, ctx.get::<String>(1)?);
            request("litescale_rename_relation", move |conn| {
                rename(conn, &from, &to)
            })?;
            Ok(rusqlite::types::Null)
        },
    )?;
    // (view, its Postgres query)
    conn.create_scalar_function(
        "litescale_set_view_query",
        2,
        rusqlite::functions::FunctionFlags::SQLITE_UTF8,
        |ctx| {
            let (view, query) = (ctx.get::<String>(0)?, ctx.get::<String>(1)?);
            request("litescale_set_view_query", move |conn| {
                set_query(conn, &view, &query)
            })?;
            Ok(rusqlite::types::Null)
        },
    )
}

/// Writes `query` as the Postgres query the view `name`'s text keeps, in place of the one
/// it keeps (SQLite's own query, which it runs, is not touched).
fn set_query(conn: &Connection, name: &str, query: &str) -> rusqlite::Result<()> {
    let sql: Option<String> = conn
        .query_row(
            "SELECT sql FROM main.sqlite_schema WHERE type = 'view' AND name = ?1 COLLATE NOCASE",
            [name],
            |r| r.get(0),
        )
        .optional()?;
    let Some(sql) = sql else {
        return Ok(());
    };
    let Some(at) = sql.rfind(POSTGRES_QUERY_MARK) else {
        return Ok(());
    };
    let written = format!(
        "{}{POSTGRES_QUERY_MARK}{} */",
        &sql[..at],
        query.replace("*/", "* /")
    );
    write_schema_text(conn, "view", name, &written)
}

fn rename(conn: &Connection, from: &str, to: &str) -> rusqlite::Result<()> {
    let view: Option<(String, String)> = conn
        .query_row(
            "SELECT name, sql FROM main.sqlite_schema WHERE type = 'view' \
             AND name = ?1 COLLATE NOCASE",
            [from],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((name, sql)) = view else {
        return conn.execute_batch(&format!(
            "ALTER TABLE main.{} RENAME TO {}",
            quoted(from),
            quoted(to)
        ));
    };
    let text = crate::engine::sql::catalog::marks::without_marks(&sql);
    let Some(body) = view_body(&text) else {
        return Err(postgres_error(
            "0A000",
            &format!("renaming the view {from} is not supported by litescale"),
        ));
    };
    conn.execute_batch(&format!(
        "DROP VIEW main.{};\nCREATE VIEW main.{} AS {body}",
        quoted(&name),
        quoted(to)
    ))?;
    super::comments::carry(conn, &sql, "view", to)
}

/// What follows `CREATE VIEW name AS` in a view's text (its column list kept), outside
/// quotes.
fn view_body(sql: &str) -> Option<&str> {
    let mut quote = None;
    for (at, c) in sql.char_indices() {
        match (quote, c) {
            (None, '"' | '\'' | '`' | '[') => quote = Some(if c == '[' { ']' } else { c }),
            (Some(q), c) if c == q => quote = None,
            (None, _) if sql[at..].len() >= 4 && sql[at..at + 4].eq_ignore_ascii_case(" AS ") => {
                return Some(&sql[at + 4..]);
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::view_body;

    #[test]
    fn a_views_body_follows_its_name() {
        assert_eq!(
            view_body("CREATE VIEW \"app.a v\" AS SELECT 1 AS x"),
            Some("SELECT 1 AS x")
        );
        assert_eq!(view_body("create view v as select 2"), Some("select 2"));
    }
}
