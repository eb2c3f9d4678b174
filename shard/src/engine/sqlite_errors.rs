//! SQLite's errors translated into the SQLSTATE and wording a Postgres client expects,
//! including the errors litescale's own SQL functions raise.

use rusqlite::{Connection, OptionalExtension, ffi};

use crate::engine::sql::{catalog, functions, typecheck};
use crate::error::{ErrorFields, ShardError};

impl From<rusqlite::Error> for ShardError {
    fn from(e: rusqlite::Error) -> ShardError {
        match e {
            rusqlite::Error::SqliteFailure(code, message) => {
                let message = message.unwrap_or_else(|| code.to_string());
                from_sqlite(code.extended_code, &message)
            }
            rusqlite::Error::SqlInputError { error, msg, .. } => {
                from_sqlite(error.extended_code, &msg)
            }
            rusqlite::Error::UserFunctionError(e) => from_message(&e.to_string()),
            rusqlite::Error::InvalidParameterCount(given, wanted) => ShardError::new(
                "08P01",
                format!(
                    "bind message supplies {given} parameters, but prepared statement requires {wanted}"
                ),
            ),
            other => ShardError::new("XX000", format!("internal error: {other}")),
        }
    }
}

/// The schema, table and column of SQLite's "... constraint failed: t.c" messages; a
/// table of a schema other than public is `s.t` there (engine/objects/schemas.rs), and
/// Postgres names it by its own name in these messages.
fn failed_on(message: &str) -> Option<(&str, &str, &str)> {
    let target = message.rsplit(": ").next()?;
    let first = target.split(", ").next()?;
    let (table, column) = first.rsplit_once('.')?;
    let (schema, table) = table.split_once('.').unwrap_or(("public", table));
    Some((schema, table, column))
}

/// A name SQLite keeps as `<schema>.<name>`, without its schema.
fn without_schema(name: &str) -> &str {
    name.split_once('.').map_or(name, |(_, object)| object)
}

/// What SQLite says of a unique violation (kept as the error's detail), before the
/// columns (`t.a, t.b`) or an index on expressions (`index 'name'`).
const UNIQUE_FAILED: &str = "UNIQUE constraint failed: ";

/// A unique violation as Postgres reports it: the constraint (or unique index) by the name
/// the catalog shows, and its table and schema in the error's fields. SQLite's words name
/// the table and columns, or an index on expressions, so this needs the connection: the
/// constraint is the table's unique index on exactly those columns. Postgres' DETAIL, the
/// key's values, is left out: SQLite does not say them, and the statement's parameters do
/// not say which of its rows failed. An error the catalog cannot place stays as it was.
pub(crate) fn name_violated_constraint(conn: &Connection, e: ShardError) -> ShardError {
    let failed = e
        .detail
        .as_deref()
        .and_then(|d| d.strip_prefix(UNIQUE_FAILED));
    let Some(Ok(Some((constraint, schema, table)))) = failed
        .filter(|_| e.sqlstate == "23505")
        .map(|failed| unique_index_of(conn, failed))
    else {
        return e;
    };
    ShardError {
        message: format!("duplicate key value violates unique constraint \"{constraint}\""),
        detail: None,
        about: Some(Box::new(ErrorFields {
            schema: Some(schema),
            table: Some(table),
            column: None,
            constraint: Some(constraint),
        })),
        ..e
    }
}

/// The name, the table's schema and the table's name of the unique index SQLite's words
/// (after [`UNIQUE_FAILED`]) point at. Of two on the same columns, a whole one before a
/// partial one, the primary key first.
fn unique_index_of(
    conn: &Connection,
    failed: &str,
) -> rusqlite::Result<Option<(String, String, String)>> {
    const NAMED: &str = "SELECT i.relname, t.nspname, t.relname FROM ls_relation i \
        JOIN ls_relation t ON t.type = 'table' AND t.tbl_name = i.tbl_name";
    let names = |r: &rusqlite::Row<'_>| Ok((r.get(0)?, r.get(1)?, r.get(2)?));
    if let Some(index) = failed
        .strip_prefix("index '")
        .and_then(|i| i.strip_suffix('\''))
    {
        let sql = format!("{NAMED} WHERE i.type = 'index' AND i.sqlite_name = ?1");
        return conn.query_row(&sql, [index], names).optional();
    }
    let Some(columns) = failed
        .split(", ")
        .map(|item| item.rsplit_once('.'))
        .collect::<Option<Vec<_>>>()
    else {
        return Ok(None);
    };
    let Some((table, _)) = columns.first() else {
        return Ok(None);
    };
    // pg_index.indkey: the columns' numbers, in the index's order.
    let mut numbers = Vec::with_capacity(columns.len());
    for (_, column) in &columns {
        let number: Option<i64> = conn
            .query_row(
                "SELECT cid + 1 FROM pragma_table_info(?1) WHERE name = ?2",
                [table, column],
                |r| r.get(0),
            )
            .optional()?;
        let Some(number) = number else {
            return Ok(None);
        };
        numbers.push(number.to_string());
    }
    let sql = format!(
        "{NAMED} JOIN pg_index x ON x.indexrelid = i.oid \
         WHERE t.sqlite_name = ?1 AND x.indisunique AND x.indkey = ?2 \
         ORDER BY x.indpred IS NOT NULL, x.indisprimary DESC LIMIT 1"
    );
    conn.query_row(&sql, [*table, numbers.join(" ").as_str()], names)
        .optional()
}

fn from_sqlite(extended_code: i32, message: &str) -> ShardError {
    if let Some(refused) = typecheck::error_of(message) {
        return refused;
    }
    let primary = extended_code & 0xff;
    let e = match extended_code {
        ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
            let on = failed_on(message)
                .map(|(_, t, _)| format!(" on \"{t}\""))
                .unwrap_or_default();
            ShardError::new(
                "23505",
                format!("duplicate key value violates unique constraint{on}"),
            )
        }
        ffi::SQLITE_CONSTRAINT_NOTNULL => match failed_on(message) {
            Some((s, t, c)) => ShardError {
                about: Some(Box::new(ErrorFields {
                    schema: Some(s.to_owned()),
                    table: Some(t.to_owned()),
                    column: Some(c.to_owned()),
                    constraint: None,
                })),
                ..ShardError::new(
                    "23502",
                    format!(
                        "null value in column \"{c}\" of relation \"{t}\" violates not-null constraint"
                    ),
                )
            },
            None => ShardError::new("23502", "null value violates not-null constraint"),
        },
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
            ShardError::new("23503", "insert or update violates foreign key constraint")
        }
        ffi::SQLITE_CONSTRAINT_CHECK => {
            let name = message.rsplit(": ").next().unwrap_or("");
            // A domain's, on one of its columns (objects/domains.rs).
            match name
                .strip_prefix("litescale_domain:")
                .and_then(|n| n.split_once(':'))
            {
                Some((domain, check)) => ShardError::new(
                    "23514",
                    format!("value for domain {domain} violates check constraint \"{check}\""),
                ),
                None => ShardError::new(
                    "23514",
                    format!(
                        "new row violates check constraint \"{}\"",
                        without_schema(name)
                    ),
                ),
            }
        }
        _ if primary == ffi::SQLITE_CONSTRAINT => ShardError::new("23000", message.to_owned()),
        _ if primary == ffi::SQLITE_INTERRUPT => {
            ShardError::new("57014", "canceling statement due to user request")
        }
        _ if primary == ffi::SQLITE_BUSY || primary == ffi::SQLITE_LOCKED => {
            ShardError::new("55P03", "could not obtain lock on the database")
        }
        _ if primary == ffi::SQLITE_READONLY => {
            ShardError::new("25006", "cannot write in a read-only transaction")
        }
        _ if primary == ffi::SQLITE_FULL => {
            ShardError::new("53100", "could not extend file: disk full")
        }
        _ if primary == ffi::SQLITE_IOERR => ShardError::new("58030", "storage I/O error"),
        _ if primary == ffi::SQLITE_CORRUPT => ShardError::new("XX001", "database file is corrupt"),
        _ if primary == ffi::SQLITE_TOOBIG => ShardError::new("54000", "value too large"),
        _ if primary == ffi::SQLITE_MISMATCH => ShardError::new("42804", "datatype mismatch"),
        // The role's privileges (privileges/) or the guard (guard.rs) said no.
        _ if primary == ffi::SQLITE_AUTH => return refused(),
        _ if primary == ffi::SQLITE_RANGE => {
            ShardError::new("08P01", "parameter index out of range")
        }
        _ => from_message(message),
    };
    // SQLite's own words add something when they differ from the client's message.
    if e.message == message {
        e
    } else {
        e.with_detail(message)
    }
}

/// Why the authorizer said no: a role's missing privilege, or else the guard.
fn refused() -> ShardError {
    super::privileges::denied().unwrap_or_else(outside_the_database)
}

fn outside_the_database() -> ShardError {
    ShardError::new(
        "42501",
        "permission denied: the statement reaches outside your database",
    )
}

/// SQLite reports schema errors as SQLITE_ERROR and says which in words.
fn from_message(message: &str) -> ShardError {
    if let Some(refused) = typecheck::error_of(message) {
        return refused;
    }
    let after = |prefix: &str| message.strip_prefix(prefix).map(str::trim);
    // "access to t.c is prohibited": a read the authorizer refused.
    if message.starts_with("not authorized")
        || (message.starts_with("access to ") && message.ends_with(" is prohibited"))
    {
        refused()
    } else if message.starts_with("too many attached databases") {
        outside_the_database()
    } else if let Some(name) = after("no such table:") {
        let name = name.strip_prefix("main.").unwrap_or(name);
        ShardError::new("42P01", format!("relation \"{name}\" does not exist"))
    } else if let Some(name) = after("no such column:") {
        ShardError::new("42703", format!("column \"{name}\" does not exist"))
    } else if let Some(name) = after("no such index:") {
        ShardError::new("42704", format!("index \"{name}\" does not exist"))
    } else if let Some(name) = after("no such view:") {
        ShardError::new("42P01", format!("view \"{name}\" does not exist"))
    } else if let Some(name) = after("no such function:") {
        ShardError::new("42883", format!("function {name} does not exist"))
    } else if let Some(rest) = after("table") {
        if let Some(name) = rest.strip_suffix("already exists") {
            ShardError::new(
                "42P07",
                format!("relation \"{}\" already exists", name.trim()),
            )
        } else if rest.contains("has no column named") {
            let col = rest.rsplit("named").next().unwrap_or("").trim();
            ShardError::new("42703", format!("column \"{col}\" does not exist"))
        } else if let Some(counts) = rest
            .split_once(" has ")
            .and_then(|(_, counts)| counts.strip_suffix(" values were supplied"))
            .and_then(|counts| counts.split_once(" columns but "))
        {
            insert_arity(counts.1, counts.0, true)
        } else {
            ShardError::new("42000", message.to_owned())
        }
    } else if let Some(name) =
        after("view").and_then(|rest| rest.strip_suffix("may not be altered"))
    {
        // SQLite's ALTER TABLE takes no view: renaming one is not made yet.
        ShardError::new(
            "0A000",
            format!(
                "ALTER ... RENAME of the view {} is not supported by litescale",
                name.trim()
            ),
        )
    } else if let Some(rest) = after("index") {
        match rest.strip_suffix("already exists") {
            Some(name) => ShardError::new(
                "42P07",
                format!("relation \"{}\" already exists", name.trim()),
            ),
            None => ShardError::new("42000", message.to_owned()),
        }
    } else if message.starts_with("Expression tree is too large")
        || message.starts_with("parser stack overflow")
    {
        // SQLite's own bounds on nesting, as Postgres words its.
        ShardError::new("54001", "stack depth limit exceeded")
    } else if message.contains("syntax error") || message.starts_with("near ") {
        ShardError::new("42601", message.to_owned())
    } else if message.starts_with(catalog::CURRENT_SETTING_UNSUPPORTED) {
        ShardError::new("0A000", message.to_owned())
    } else if message == functions::DIVISION_BY_ZERO {
        ShardError::new("22012", "division by zero")
    } else if message.contains("integer overflow") || message == functions::INTEGER_OUT_OF_RANGE {
        ShardError::new("22003", "integer out of range")
    } else if message.starts_with("argument of ntile must be a positive integer") {
        ShardError::new("22014", "argument of ntile must be greater than zero")
    } else if let Some(name) = after("duplicate column name:") {
        ShardError::new(
            "42701",
            format!("column \"{name}\" specified more than once"),
        )
    } else if let Some(clause) = ["ORDER BY", "GROUP BY"]
        .into_iter()
        .find(|clause| message.contains(&format!("{clause} term out of range")))
    {
        ShardError::new("42P10", format!("{clause} position is not in select list"))
    } else if let Some(function) = after("wrong number of arguments to function") {
        let name = function.trim_end_matches("()");
        ShardError::new(
            "42883",
            format!("function {name} with these arguments does not exist"),
        )
    } else if message.contains("ambiguous column name") {
        let col = message.rsplit(':').next().unwrap_or("").trim();
        ShardError::new("42702", format!("column reference \"{col}\" is ambiguous"))
    } else if message.contains("ORDER BY term does not match any column in the result set") {
        // Only a set operation's ORDER BY is held to its result's columns; Postgres, too,
        // takes nothing but their names and positions there.
        ShardError::new("0A000", "invalid UNION/INTERSECT/EXCEPT ORDER BY clause")
    } else if message.contains("do not have the same number of result columns") {
        let operation = message
            .split_whitespace()
            .find(|w| ["UNION", "INTERSECT", "EXCEPT"].contains(w))
            .unwrap_or("UNION");
        ShardError::new(
            "42601",
            format!("each {operation} query must have the same number of columns"),
        )
    } else if let Some((values, columns)) = message
        .strip_suffix(" columns")
        .and_then(|counts| counts.split_once(" values for "))
    {
        insert_arity(values, columns, false)
    } else if message.starts_with("ON CONFLICT clause does not match any PRIMARY KEY or UNIQUE") {
        ShardError::new(
            "42P10",
            "there is no unique or exclusion constraint matching the ON CONFLICT specification",
        )
    } else {
        ShardError::new("XX000", message.to_owned())
    }
}

/// An INSERT whose rows have more or fewer values than its target columns. Postgres fills
/// the table's trailing columns with their defaults when the INSERT names no columns and
/// gives fewer values; SQLite cannot, so that one is refused (0A000), and the proxy runs
/// it again with the columns the values fill named.
fn insert_arity(values: &str, columns: &str, all_columns: bool) -> ShardError {
    let (Ok(values), Ok(columns)) = (
        values.trim().parse::<usize>(),
        columns.trim().parse::<usize>(),
    ) else {
        return ShardError::new(
            "42601",
            "INSERT has a different number of expressions than target columns",
        );
    };
    if values > columns {
        ShardError::new("42601", "INSERT has more expressions than target columns")
    } else if all_columns {
        ShardError::new(
            "0A000",
            "INSERT without a column list and fewer values than the table has columns is not supported by litescale",
        )
    } else {
        ShardError::new("42601", "INSERT has more target columns than expressions")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite_error(sql: &str) -> ShardError {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        c.execute_batch(
            "PRAGMA foreign_keys=ON;
             CREATE TABLE p (id INTEGER PRIMARY KEY);
             CREATE TABLE t (id INT PRIMARY KEY, name TEXT NOT NULL, n INT CHECK (n > 0),
                             p INT REFERENCES p(id));
             INSERT INTO t VALUES (1, 'a', 1, NULL);",
        )
        .unwrap();
        c.execute_batch(sql).unwrap_err().into()
    }

    #[test]
    fn sqlite_errors_get_postgres_sqlstates() {
        assert_eq!(
            sqlite_error("INSERT INTO t VALUES (1, 'b', 1, NULL)").sqlstate,
            "23505"
        );
        let nn = sqlite_error("INSERT INTO t VALUES (2, NULL, 1, NULL)");
        assert_eq!(nn.sqlstate, "23502");
        assert_eq!(
            nn.message,
            "null value in column \"name\" of relation \"t\" violates not-null constraint"
        );
        assert_eq!(
            sqlite_error("INSERT INTO t VALUES (3, 'c', 0, NULL)").sqlstate,
            "23514"
        );
        assert_eq!(
            sqlite_error("INSERT INTO t VALUES (4, 'd', 1, 99)").sqlstate,
            "23503"
        );
        // SQLite's bound on expression depth (1,000), as Postgres words a stack overflow.
        let deep = sqlite_error(&format!("SELECT 1{}", "+1".repeat(1_000)));
        assert_eq!(deep.sqlstate, "54001", "{deep:?}");
        let nt = sqlite_error("SELECT * FROM nope");
        assert_eq!(
            (nt.sqlstate, nt.message.as_str()),
            ("42P01", "relation \"nope\" does not exist")
        );
        assert_eq!(sqlite_error("SELECT nope FROM t").sqlstate, "42703");
        assert_eq!(
            sqlite_error("CREATE TABLE d (a int, a int)").sqlstate,
            "42701"
        );
        assert_eq!(sqlite_error("SELECT 1 FROM t ORDER BY 5").sqlstate, "42P10");
        assert_eq!(
            sqlite_error("SELECT count(*) FROM t GROUP BY 7").sqlstate,
            "42P10"
        );
        assert_eq!(sqlite_error("SELECT length(1, 2)").sqlstate, "42883");
        assert_eq!(sqlite_error("CREATE TABLE t (a INT)").sqlstate, "42P07");
        assert_eq!(
            sqlite_error("INSERT INTO t (zz) VALUES (1)").sqlstate,
            "42703"
        );
        assert_eq!(sqlite_error("SELECT nofunc(1)").sqlstate, "42883");
        for (insert, sqlstate) in [
            ("INSERT INTO p VALUES (1, 2)", "42601"),
            ("INSERT INTO t VALUES (1)", "0A000"),
            ("INSERT INTO t (id, name) VALUES (1)", "42601"),
            ("INSERT INTO t (id) VALUES (1, 'a')", "42601"),
            (
                "INSERT INTO t (id) VALUES (1) ON CONFLICT (name) DO NOTHING",
                "42P10",
            ),
        ] {
            assert_eq!(sqlite_error(insert).sqlstate, sqlstate, "{insert}");
        }
        assert_eq!(
            sqlite_error("SELECT ntile(0) OVER () FROM t").sqlstate,
            "22014"
        );
        assert_eq!(
            sqlite_error("SELECT id FROM t UNION SELECT id FROM t ORDER BY id + 1").sqlstate,
            "0A000"
        );
        let columns = sqlite_error("SELECT 1, 2 EXCEPT SELECT 3");
        assert_eq!(
            (columns.sqlstate, columns.message.as_str()),
            (
                "42601",
                "each EXCEPT query must have the same number of columns"
            )
        );
    }

    #[test]
    fn a_unique_violation_names_the_constraint_the_catalog_shows() {
        use crate::engine::options::{ConnectionOptions, configure};
        let mut c = rusqlite::Connection::open_in_memory().unwrap();
        let types = crate::TypeCatalog {
            of_declared: |_| (25, -1),
            format: |_, _| None,
            all: || vec![(25, "text", -1, 'S')],
            check_stored: |_, _| Ok(()),
            server_version: ("15.18", "150018"),
        };
        let options = ConnectionOptions {
            storage: Default::default(),
            statement_cache: 16,
            database: "db".to_owned(),
            types,
            usage: Default::default(),
            root: std::env::temp_dir(),
            max_result_bytes: 1 << 20,
        };
        configure(&mut c, &options).unwrap();
        c.execute_batch(
            "CREATE TABLE u (id INTEGER PRIMARY KEY, email TEXT UNIQUE, a INT, b INT, s TEXT);
             CREATE UNIQUE INDEX \"u_b_a\" ON u (b, a);
             CREATE UNIQUE INDEX u_lower ON u (lower(s));
             INSERT INTO u VALUES (1, 'x', 1, 2, 'S');",
        )
        .unwrap();
        for (insert, constraint) in [
            ("INSERT INTO u VALUES (1, 'y', 0, 0, NULL)", "u_pkey"),
            ("INSERT INTO u VALUES (2, 'x', 0, 0, NULL)", "u_email_key"),
            ("INSERT INTO u VALUES (2, 'y', 1, 2, NULL)", "u_b_a"),
            ("INSERT INTO u VALUES (2, 'y', 0, 0, 's')", "u_lower"),
        ] {
            let e = name_violated_constraint(&c, c.execute_batch(insert).unwrap_err().into());
            assert_eq!(
                e.message,
                format!("duplicate key value violates unique constraint \"{constraint}\""),
                "{insert}"
            );
            assert_eq!(e.detail, None);
            assert_eq!(
                e.about.as_deref(),
                Some(&ErrorFields {
                    schema: Some("public".to_owned()),
                    table: Some("u".to_owned()),
                    column: None,
                    constraint: Some(constraint.to_owned()),
                })
            );
        }
    }
}
