//! What INSERT and UPDATE write where SQLite's rules differ from Postgres', asked for by
//! the router from the table's schema.
//!
//! `pg_column_default(table, column)`: a column's DEFAULT, evaluated. Postgres takes the
//! keyword DEFAULT in INSERT's VALUES and UPDATE's SET; SQLite has neither. The default is
//! the expression SQLite keeps in the table's schema, so it is evaluated as SQLite would
//! evaluate it for an omitted column. A column without one answers NULL (Postgres' default
//! default), which an INTEGER PRIMARY KEY (serial) turns into its next number on INSERT, as
//! SQLite does for an omitted one.
//!
//! `pg_insert_null(table, column)`: a NULL written into a column, refused (23502) where the
//! column is part of the primary key. Postgres' primary keys are NOT NULL; SQLite numbers
//! the row for a NULL INTEGER PRIMARY KEY and keeps a NULL in any other.
//!
//! `pg_assign(table, column, value)`: a value written into a column, converted as
//! Postgres' assignment to the column's type converts it: rounded half away from zero to a
//! numeric(p, s)'s scale (22003 past its precision), a fraction into an integer column
//! rounded to the integer, and a text through the type's input function for booleans
//! (stored 1/0), uuids (canonical), bytea (bytes), dates and times (their stored forms)
//! and intervals (Postgres' output form), so that comparisons read what Postgres would
//! have stored. SQLite keeps what it is given.
//!
//! `column` is the column's name, or its position (from 0) for an INSERT without a column
//! list.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension};

use super::catalog::TypeCatalog;
use super::typecheck::postgres_error;

pub(crate) fn register(conn: &Connection, types: &TypeCatalog) -> rusqlite::Result<()> {
    // Not deterministic: a default may be now() or random().
    conn.create_scalar_function(
        "pg_column_default",
        2,
        FunctionFlags::SQLITE_UTF8,
        column_default,
    )?;
    // Not deterministic either, so that SQLite never evaluates it once ahead of the rows:
    // only a NULL actually written is refused.
    conn.create_scalar_function("pg_insert_null", 2, FunctionFlags::SQLITE_UTF8, insert_null)?;
    conn.create_scalar_function(
        "pg_assign",
        3,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        {
            let types = *types;
            move |ctx| assign(ctx, &types)
        },
    )
}

/// What the table's schema says of a column.
struct Column {
    name: String,
    default: Option<String>,
    in_primary_key: bool,
    declared: String,
}

fn column(ctx: &Context) -> rusqlite::Result<Column> {
    let table: String = ctx.get(0)?;
    let column: SqlValue = ctx.get(1)?;
    // SAFETY: the connection is the one running this function; it is only read from
    // here, and neither closed nor handed out.
    let conn = unsafe { ctx.get_connection()? };
    let found = conn
        .query_row(
            "SELECT name, dflt_value, pk > 0, type FROM pragma_table_info(?1, 'main')
             WHERE CASE WHEN typeof(?2) = 'integer' THEN cid = ?2 ELSE name = ?2 COLLATE NOCASE END",
            rusqlite::params![table, column],
            |r| {
                Ok(Column {
                    name: r.get(0)?,
                    default: r.get(1)?,
                    in_primary_key: r.get(2)?,
                    declared: r.get(3)?,
                })
            },
        )
        .optional()?;
    found.ok_or_else(|| {
        let column = match column {
            SqlValue::Text(name) => name,
            other => format!("{other:?}"),
        };
        postgres_error(
            "42703",
            &format!("column \"{column}\" of relation \"{table}\" does not exist"),
        )
    })
}

fn column_default(ctx: &mut Context) -> rusqlite::Result<SqlValue> {
    let Some(expression) = column(ctx)?.default else {
        return Ok(SqlValue::Null);
    };
    // SAFETY: as in `column`.
    let conn = unsafe { ctx.get_connection()? };
    conn.query_row(&format!("SELECT {expression}"), [], |r| r.get(0))
}

/// What assigning to a column of a declared type does to a value.
#[derive(Clone, Copy)]
enum Assignment {
    /// numeric(precision, scale).
    Numeric(i64, i64),
    Integer,
    Bool,
    Uuid,
    Bytea,
    /// A date or time kind, as the datetime functions name it.
    Temporal(&'static str),
    Interval,
    Kept,
}

impl Assignment {
    /// What the catalog makes of a declared type (the caller's knowledge of types: the
    /// same reading the column's type check and its RowDescription use).
    fn of(types: &TypeCatalog, declared: &str) -> Assignment {
        let (oid, typmod) = (types.of_declared)(declared);
        match (types.format)(oid, -1).as_deref() {
            // numeric's typmod is ((precision << 16) | scale) + 4.
            Some("numeric") if typmod >= 4 => {
                let modifier = typmod - 4;
                Assignment::Numeric(i64::from(modifier >> 16), i64::from(modifier & 0xffff))
            }
            Some("smallint" | "integer" | "bigint") => Assignment::Integer,
            Some("boolean") => Assignment::Bool,
            Some("uuid") => Assignment::Uuid,
            Some("bytea") => Assignment::Bytea,
            Some("date") => Assignment::Temporal("date"),
            Some("time without time zone") => Assignment::Temporal("time"),
            Some("timestamp without time zone") => Assignment::Temporal("timestamp"),
            Some("timestamp with time zone") => Assignment::Temporal("timestamptz"),
            Some("interval") => Assignment::Interval,
            _ => Assignment::Kept,
        }
    }

    fn apply(self, value: SqlValue) -> rusqlite::Result<SqlValue> {
        let sql_error = |(sqlstate, message): (&str, String)| postgres_error(sqlstate, &message);
        Ok(match (self, value) {
            (Assignment::Numeric(precision, scale), value) => {
                let Ok(Some(number)) = super::numeric::argument((&value).into()) else {
                    // Not a number: the column's type check refuses it with 22P02.
                    return Ok(value);
                };
                number
                    .with_typmod(precision, scale)
                    .map_err(sql_error)?
                    .to_sqlite_number()
                    .map_err(sql_error)?
                    .into()
            }
            (Assignment::Integer, SqlValue::Real(f)) if f.fract() != 0.0 => {
                // Rounded as numeric's assignment to an integer rounds; past bigint the
                // type check answers.
                SqlValue::Real(f.round())
            }
            // Text a type's input refuses is kept, for the column's type check to refuse
            // with the input function's error.
            (Assignment::Bool, SqlValue::Text(t)) => match super::functions::parse_bool(&t) {
                Some(b) => SqlValue::Integer(i64::from(b)),
                None => SqlValue::Text(t),
            },
            (Assignment::Uuid, SqlValue::Text(t)) => {
                SqlValue::Text(super::functions::canonical_uuid(&t).unwrap_or(t))
            }
            (Assignment::Bytea, SqlValue::Text(t)) => {
                SqlValue::Blob(super::text::bytea::bytea_in(&t)?)
            }
            (Assignment::Temporal(kind), SqlValue::Text(t)) => {
                match super::datetime::stored_form(kind, &t) {
                    Ok(stored) => SqlValue::Text(stored),
                    Err(_) => SqlValue::Text(t),
                }
            }
            (Assignment::Interval, SqlValue::Text(t)) => {
                match super::datetime::interval_stored_form(&t) {
                    Ok(stored) => SqlValue::Text(stored),
                    Err(_) => SqlValue::Text(t),
                }
            }
            (_, value) => value,
        })
    }
}

/// `pg_assign(table, column, value)`: the value as the column's type takes it.
fn assign(ctx: &mut Context, types: &TypeCatalog) -> rusqlite::Result<SqlValue> {
    // The table and column are constants: the schema is read once per statement.
    let assignment = match ctx.get_aux::<Assignment>(1)? {
        Some(assignment) => *assignment,
        None => *ctx.set_aux(1, Assignment::of(types, &declared_type(ctx)?))?,
    };
    assignment.apply(ctx.get(2)?)
}

/// The declared type of the column `pg_assign` writes. Named, it is read from SQLite's
/// schema in memory (sqlite3_table_column_metadata): every execution of a statement that
/// writes the column asks, and a query of the table's columns, prepared each time, cost
/// a quarter of the writer's time in pgbench's tpcb-like. By position, or not found (to
/// be named in the error), from that query.
fn declared_type(ctx: &Context) -> rusqlite::Result<String> {
    if let SqlValue::Text(name) = ctx.get::<SqlValue>(1)? {
        let table: String = ctx.get(0)?;
        // SAFETY: as in `column`.
        let conn = unsafe { ctx.get_connection()? };
        if let Ok((declared, ..)) =
            conn.column_metadata(Some("main"), table.as_str(), name.as_str())
        {
            return Ok(declared.map_or_else(String::new, |d| d.to_string_lossy().into_owned()));
        }
    }
    Ok(column(ctx)?.declared)
}

fn insert_null(ctx: &mut Context) -> rusqlite::Result<SqlValue> {
    // The arguments are constants: the schema is read once per statement.
    let refused = match ctx.get_aux::<bool>(1)? {
        Some(refused) => *refused,
        None => *ctx.set_aux(1, column(ctx)?.in_primary_key)?,
    };
    if refused {
        let table: String = ctx.get(0)?;
        let name = column(ctx)?.name;
        return Err(postgres_error(
            "23502",
            &format!(
                "null value in column \"{name}\" of relation \"{table}\" violates not-null constraint"
            ),
        ));
    }
    Ok(SqlValue::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The caller's catalog, for the types these tests declare.
    fn types() -> TypeCatalog {
        TypeCatalog {
            of_declared: |decl| match decl {
                "NUMERIC(6,2)" => (1700, ((6 << 16) | 2) + 4),
                "INT" | "INTEGER" => (23, -1),
                "BOOLEAN" => (16, -1),
                "UUID" => (2950, -1),
                "BYTEA" => (17, -1),
                "DATE" => (1082, -1),
                "TIMESTAMPTZ" => (1184, -1),
                "INTERVAL" => (1186, -1),
                _ => (25, -1),
            },
            format: |oid, _| {
                Some(
                    match oid {
                        1700 => "numeric",
                        1186 => "interval",
                        23 => "integer",
                        16 => "boolean",
                        2950 => "uuid",
                        17 => "bytea",
                        1082 => "date",
                        1184 => "timestamp with time zone",
                        _ => "text",
                    }
                    .to_owned(),
                )
            },
            all: Vec::new,
            check_stored: |_, _| Ok(()),
            server_version: ("15.18", "150018"),
        }
    }

    #[test]
    fn defaults_are_evaluated_and_absent_ones_are_null() {
        let c = Connection::open_in_memory().unwrap();
        register(&c, &types()).unwrap();
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

    #[test]
    fn values_are_assigned_as_the_columns_type_takes_them() {
        let c = Connection::open_in_memory().unwrap();
        register(&c, &types()).unwrap();
        super::super::numeric::register(&c).unwrap();
        c.execute_batch(
            "CREATE TABLE t (price NUMERIC(6,2), qty INT, note TEXT);
             INSERT INTO t VALUES (pg_assign('t', 0, 1.005), pg_assign('t', 1, 1.5), pg_assign('t', 2, 1.005));
             INSERT INTO t VALUES (pg_assign('t', 'price', '2.345'), pg_assign('t', 'qty', -2.5), pg_assign('t', 'note', 'x'));
             CREATE TABLE u (b BOOLEAN, id UUID, data BYTEA, d DATE, at TIMESTAMPTZ);
             INSERT INTO u VALUES (pg_assign('u', 0, 'yes'), pg_assign('u', 1, '{A0EEBC999C0B4EF8BB6D6BB9BD380A11}'),
                 pg_assign('u', 2, '\\x6869'), pg_assign('u', 3, 'Jan 2, 2024'), pg_assign('u', 4, '2024-01-02 03:04:05+02'));",
        )
        .unwrap();
        let rows: Vec<(f64, i64, String)> = c
            .prepare("SELECT price, qty, note FROM t ORDER BY rowid")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            rows,
            [(1.01, 2, "1.005".to_owned()), (2.35, -3, "x".to_owned())]
        );
        let overflow = c
            .execute(
                "INSERT INTO t (price) VALUES (pg_assign('t', 'price', 12345.6))",
                [],
            )
            .unwrap_err();
        assert!(overflow.to_string().contains("22003"), "{overflow}");
        // Intervals in Postgres' output form; a bare clock is given its days.
        c.execute_batch(
            "CREATE TABLE v (d INTERVAL);
             INSERT INTO v VALUES (pg_assign('v', 0, 'P2D')), (pg_assign('v', 0, '1:02:03')),
                                  (pg_assign('v', 0, '1.5 days'));",
        )
        .unwrap();
        let intervals: Vec<String> = c
            .prepare("SELECT d FROM v ORDER BY rowid")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(intervals, ["2 days", "0 days 01:02:03", "1 day 12:00:00"]);
    }

    #[test]
    fn a_null_into_the_primary_key_is_refused() {
        let c = Connection::open_in_memory().unwrap();
        register(&c, &types()).unwrap();
        c.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT)")
            .unwrap();
        c.execute(
            "INSERT INTO t VALUES (1, pg_insert_null('t', 's')), (2, pg_insert_null('t', 1))",
            [],
        )
        .unwrap();
        let refused = c
            .execute("INSERT INTO t VALUES (pg_insert_null('t', 0), 'x')", [])
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("23502 null value in column \"id\" of relation \"t\""),
            "{refused}"
        );
        // Only a row written refuses it.
        c.execute(
            "UPDATE t SET id = pg_insert_null('t', 'id') WHERE id > 9",
            [],
        )
        .unwrap();
    }
}
