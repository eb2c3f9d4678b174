//! What a tenant's SQL may not do, enforced by SQLite on every connection, beneath the
//! router's own refusals: no other database files (ATTACH), no extension loading (off by
//! default in SQLite), no schema or journal tampering (defensive mode), no PRAGMA but the
//! read-only ones the catalog views use, no functions that reach files.

use rusqlite::Connection;
use rusqlite::config::DbConfig;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::limits::Limit;

use crate::error::ShardError;

/// Read-only PRAGMAs about the database's own schema, which pg_catalog's views read, the
/// one SQLite's changeset replay sets for its own transaction (redo.rs), and quick_check,
/// which SQLite's ADD COLUMN runs to test a new column's CHECK (the type checks of
/// typecheck.rs) against the rows already there.
const ALLOWED_PRAGMAS: &[&str] = &[
    "defer_foreign_keys",
    "quick_check",
    "table_info",
    "table_xinfo",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
];

/// Functions that read or write files, or load code.
const FILE_FUNCTIONS: &[&str] = &[
    "load_extension",
    "readfile",
    "writefile",
    "edit",
    "fsdir",
    "fts3_tokenizer",
];

/// Installs the guard. Runs after the connection's own setup (its PRAGMAs).
pub(crate) fn install(conn: &mut Connection) -> Result<(), ShardError> {
    conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.authorizer(Some(authorize))?;
    Ok(())
}

fn authorize(ctx: AuthContext<'_>) -> Authorization {
    match ctx.action {
        AuthAction::Attach { .. } | AuthAction::Detach { .. } => Authorization::Deny,
        AuthAction::Pragma { pragma_name, .. }
            if !ALLOWED_PRAGMAS.contains(&pragma_name.to_ascii_lowercase().as_str()) =>
        {
            Authorization::Deny
        }
        AuthAction::Function { function_name }
            if FILE_FUNCTIONS.contains(&function_name.to_ascii_lowercase().as_str()) =>
        {
            Authorization::Deny
        }
        _ => Authorization::Allow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_settings_are_out_of_reach_and_the_schema_is_not() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t (a INT)").unwrap();
        install(&mut c).unwrap();
        for denied in [
            "ATTACH DATABASE '/tmp/other.db' AS o",
            "SELECT * FROM pragma_database_list",
            "PRAGMA journal_mode = DELETE",
            "PRAGMA writable_schema = ON",
            "SELECT load_extension('/tmp/x')",
        ] {
            let err = c.execute_batch(denied).unwrap_err();
            let e = ShardError::from(err);
            assert_eq!(e.sqlstate, "42501", "{denied}: {}", e.message);
        }
        let n: i64 = c
            .query_row("SELECT count(*) FROM pragma_table_info('t')", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(n, 1);
    }
}
