//! `pg_typecheck(value, 'declared type')`: the CHECK the router puts on each typed column,
//! so that a value Postgres would refuse for the column's type is refused on every write
//! path, whatever wrote it. What a type accepts is the caller's knowledge
//! ([`TypeCatalog::check_stored`]); this module carries its verdict through SQLite.
//!
//! SQLite passes only a message out of a failing function, so the SQLSTATE travels in it
//! behind a marker, and [`error_of`] takes it back out.

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;

use crate::engine::sql::catalog::TypeCatalog;
use crate::error::ShardError;
use crate::value::Value;

/// The start of a message that carries a SQLSTATE (a failing check, a Postgres function's
/// error); the SQLSTATE and the client's message follow.
const REFUSED: &str = "litescale type check: ";

pub(crate) fn register(conn: &Connection, types: &TypeCatalog) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    let (of_declared, check) = (types.of_declared, types.check_stored);
    conn.create_scalar_function("pg_typecheck", 2, flags, move |ctx| {
        // The declared type is the same text for every row: its OID is worked out once per
        // statement.
        let oid = ctx.get_or_create_aux(1, |declared| -> rusqlite::Result<u32> {
            Ok(of_declared(declared.as_str().unwrap_or("")).0)
        })?;
        let value = match ctx.get_raw(0) {
            ValueRef::Null => return Ok(true),
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(f) => Value::Real(f),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        };
        check(&value, *oid)
            .map(|()| true)
            .map_err(|e| postgres_error(e.sqlstate, &e.message))
    })
}

/// A failing SQL function's error carrying Postgres' SQLSTATE through SQLite (type checks
/// here, and the Postgres functions of text/, math.rs, json/ and array_functions.rs).
pub(crate) fn postgres_error(sqlstate: &str, message: &str) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(format!("{REFUSED}{sqlstate} {message}").into())
}

/// The client's error, when SQLite's message is a refused type check or another
/// [`postgres_error`].
pub(crate) fn error_of(message: &str) -> Option<ShardError> {
    let rest = message.strip_prefix(REFUSED)?;
    let (sqlstate, message) = rest.split_once(' ')?;
    Some(ShardError::new(crate::error::intern(sqlstate), message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types() -> TypeCatalog {
        TypeCatalog {
            of_declared: |decl| (if decl == "INT" { 23 } else { 25 }, -1),
            format: |_, _| None,
            all: Vec::new,
            check_stored: |value, oid| match (oid, value) {
                (23, Value::Text(s)) => Err(ShardError::new(
                    "22P02",
                    format!("invalid input syntax for type integer: \"{s}\""),
                )),
                _ => Ok(()),
            },
            server_version: ("15.18", "150018"),
        }
    }

    #[test]
    fn a_refused_value_fails_the_write_with_the_checks_sqlstate() {
        let c = Connection::open_in_memory().unwrap();
        register(&c, &types()).unwrap();
        c.execute_batch(
            "CREATE TABLE t (i INT CHECK (pg_typecheck(i, 'INT')), s TEXT CHECK (pg_typecheck(s, 'TEXT')))",
        )
        .unwrap();
        // Affinity first: '12' is stored as the integer 12, which the check accepts.
        c.execute_batch("INSERT INTO t VALUES ('12', 'x'), (NULL, NULL)")
            .unwrap();
        let e: ShardError = c
            .execute_batch("INSERT INTO t VALUES ('abc', 'x')")
            .unwrap_err()
            .into();
        assert_eq!(
            (e.sqlstate, e.message.as_str(), e.detail),
            (
                "22P02",
                "invalid input syntax for type integer: \"abc\"",
                None
            )
        );
        let e: ShardError = c
            .execute_batch("UPDATE t SET i = 'x' || i")
            .unwrap_err()
            .into();
        assert_eq!(e.sqlstate, "22P02");
        let n: i64 = c
            .query_row("SELECT count(*) FROM t WHERE i = 12", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }
}
