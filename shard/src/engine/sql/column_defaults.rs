//! `pg_column_default(table, column)`: a column's DEFAULT, evaluated. Postgres takes the
//! keyword DEFAULT in INSERT's VALUES and UPDATE's SET; SQLite has neither, so the router
//! asks for the value here. The default is the expression SQLite keeps in the table's
//! schema, so it is evaluated as SQLite would evaluate it for an omitted column. A column
//! without one answers NULL (Postgres' default default), which an INTEGER PRIMARY KEY
//! (serial) turns into its next number on INSERT, as SQLite does for an omitted one.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension};

use super::typecheck::postgres_error;

pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    // Not deterministic: a default may be now() or random().
    conn.create_scalar_function(
        "pg_column_default",
        2,
        FunctionFlags::SQLITE_UTF8,
        column_default,
    )
}

/// `column` is the column's name, or its position (from 0) for an INSERT without a
/// column list.
fn column_default(ctx: &mut Context) -> rusqlite::Result<SqlValue> {
    let table: String = ctx.get(0)?;
    let column: SqlValue = ctx.get(1)?;
    // SAFETY: the connection is the one running this function; it is only read from
    // here, and neither closed nor handed out.
    let conn = unsafe { ctx.get_connection()? };
    let default: Option<Option<String>> = conn
        .query_row(
            "SELECT dflt_value FROM pragma_table_info(?1, 'main')
             WHERE CASE WHEN typeof(?2) = 'integer' THEN cid = ?2 ELSE name = ?2 COLLATE NOCASE END",
            rusqlite::params![table, column],
            |r| r.get(0),
        )
        .optional()?;
    match default {
        None => {
            let column = match column {
                SqlValue::Text(name) => name,
                other => format!("{other:?}"),
            };
            Err(postgres_error(
                "42703",
                &format!("column \"{column}\" of relation \"{table}\" does not exist"),
            ))
        }
        Some(None) => Ok(SqlValue::Null),
        Some(Some(expression)) => conn.query_row(&format!("SELECT {expression}"), [], |r| r.get(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_evaluated_and_absent_ones_are_null() {
        let c = Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        c.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INT DEFAULT (1 + 2), s TEXT DEFAULT 'x', m INT);
             INSERT INTO t (n, s, m) VALUES (pg_column_default('t', 'n'), 'y', 5);
             UPDATE t SET s = pg_column_default('t', 'S'), m = pg_column_default('t', 3);",
        )
        .unwrap();
        let row: (i64, i64, String, Option<i64>) = c
            .query_row("SELECT id, n, s, m FROM t", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .unwrap();
        assert_eq!(row, (1, 3, "x".to_owned(), None));
        let missing = c
            .query_row("SELECT pg_column_default('t', 'nope')", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .unwrap_err();
        assert!(missing.to_string().contains("42703"), "{missing}");
    }
}
