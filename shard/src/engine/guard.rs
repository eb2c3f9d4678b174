//! What a tenant's SQL may not do, enforced by SQLite on every connection, beneath the
//! router's own refusals: no other database files (ATTACH), no extension loading (off by
//! default in SQLite), no schema or journal tampering (defensive mode), no PRAGMA but the
//! read-only ones the catalog views use, no functions that reach files, no temporary
//! objects (a connection serves every session, so they would be shared, and the catalog's
//! own views are temporary: dropping one would break pg_catalog for everyone), no access
//! to litescale's own tables (`_litescale_fence`, `_litescale_commits`) but by litescale;
//! and, for a role that is not a superuser, what its privileges allow (privileges/).

use std::cell::Cell;

use rusqlite::Connection;
use rusqlite::config::DbConfig;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::limits::Limit;

use crate::error::ShardError;

/// Read-only PRAGMAs about the database's own schema, which pg_catalog's views read, the
/// one SQLite's changeset replay sets for its own transaction (storage/redo.rs), the one
/// a table's rebuild sets for its batch, and
/// quick_check, which SQLite's ADD COLUMN runs to test a new column's CHECK (the type
/// checks of engine/sql/typecheck.rs) against the rows already there.
const ALLOWED_PRAGMAS: &[&str] = &[
    "defer_foreign_keys",
    // An ALTER TABLE that makes its table again sets it aside under another name without
    // views and triggers elsewhere following it (router translate/rebuild.rs); the batch
    // that sets it has it reset whatever its outcome (engine/statements.rs).
    "legacy_alter_table",
    "quick_check",
    "table_info",
    "table_xinfo",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    // An ALTER TABLE ADD FOREIGN KEY made in place checks the rows already there.
    "foreign_key_check",
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

/// Prefix of the tables litescale keeps in every partition for itself. SQLite's names are
/// case-insensitive, so it is matched without regard to ASCII case.
const INTERNAL_TABLE_PREFIX: &str = "_litescale";

thread_local! {
    /// Set while litescale's own statements on its tables run on this thread. SQLite
    /// calls the authorizer on the preparing thread, at prepare and at a re-prepare
    /// inside a step, so the flag covers the whole call.
    static LITESCALE_OWN: Cell<bool> = const { Cell::new(false) };
}

/// Whether `name` is one of litescale's own tables.
pub(crate) fn is_internal(name: &str) -> bool {
    name.len() >= INTERNAL_TABLE_PREFIX.len()
        && name.as_bytes()[..INTERNAL_TABLE_PREFIX.len()]
            .eq_ignore_ascii_case(INTERNAL_TABLE_PREFIX.as_bytes())
}

/// Runs litescale's own statements on its internal tables, which the authorizer refuses
/// to tenants' SQL.
pub(crate) fn as_litescale<R>(job: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            LITESCALE_OWN.set(self.0);
        }
    }
    let _restore = Restore(LITESCALE_OWN.replace(true));
    job()
}

/// Installs the guard. Runs after the connection's own setup (its PRAGMAs).
pub(crate) fn install(conn: &mut Connection) -> Result<(), ShardError> {
    conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.authorizer(Some(authorize))?;
    Ok(())
}

fn authorize(ctx: AuthContext<'_>) -> Authorization {
    if let Some(table) = table_named(&ctx.action)
        && is_internal(table)
        && !LITESCALE_OWN.get()
    {
        return Authorization::Deny;
    }
    // What GRANT and REVOKE decide, for a tenant's SQL and for litescale's own edits on
    // its behalf (whose rows it reads and writes itself: only their DDL is asked about).
    if let Some(decision) = super::privileges::authorize(&ctx, LITESCALE_OWN.get()) {
        return decision;
    }
    match ctx.action {
        AuthAction::Attach { .. } | AuthAction::Detach { .. } => Authorization::Deny,
        // ALTER TABLE ... RENAME rewrites the temp schema's views and triggers that name the
        // table (the catalog's views name none), through SQLite's own UPDATE of its schema
        // table; defensive mode keeps a tenant's SQL from writing it.
        AuthAction::Update { table_name, .. }
            if table_name.eq_ignore_ascii_case("sqlite_temp_master") =>
        {
            Authorization::Allow
        }
        AuthAction::CreateTempTable { .. }
        | AuthAction::CreateTempView { .. }
        | AuthAction::CreateTempIndex { .. }
        | AuthAction::CreateTempTrigger { .. }
        | AuthAction::DropTempTable { .. }
        | AuthAction::DropTempView { .. }
        | AuthAction::DropTempIndex { .. }
        | AuthAction::DropTempTrigger { .. } => Authorization::Deny,
        // `CREATE TABLE temp.t` is a temporary table that SQLite reports as a plain one in
        // the database named "temp".
        AuthAction::CreateTable { .. }
        | AuthAction::CreateView { .. }
        | AuthAction::CreateIndex { .. }
        | AuthAction::CreateTrigger { .. }
        | AuthAction::DropTable { .. }
        | AuthAction::DropView { .. }
        | AuthAction::DropIndex { .. }
        | AuthAction::DropTrigger { .. }
        | AuthAction::AlterTable { .. }
        | AuthAction::Insert { .. }
        | AuthAction::Update { .. }
        | AuthAction::Delete { .. }
            if ctx
                .database_name
                .is_some_and(|db| db.eq_ignore_ascii_case("temp")) =>
        {
            Authorization::Deny
        }
        // litescale's own edit of a table's definition (table_definition.rs).
        AuthAction::Pragma { .. } if LITESCALE_OWN.get() => Authorization::Allow,
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

/// The table an action reads, writes, alters or hangs something on.
fn table_named<'a>(action: &AuthAction<'a>) -> Option<&'a str> {
    match *action {
        AuthAction::CreateIndex { table_name, .. }
        | AuthAction::CreateTable { table_name }
        | AuthAction::CreateTempIndex { table_name, .. }
        | AuthAction::CreateTempTable { table_name }
        | AuthAction::CreateTempTrigger { table_name, .. }
        | AuthAction::CreateTrigger { table_name, .. }
        | AuthAction::Delete { table_name }
        | AuthAction::DropIndex { table_name, .. }
        | AuthAction::DropTable { table_name }
        | AuthAction::DropTempIndex { table_name, .. }
        | AuthAction::DropTempTable { table_name }
        | AuthAction::DropTempTrigger { table_name, .. }
        | AuthAction::DropTrigger { table_name, .. }
        | AuthAction::Insert { table_name }
        | AuthAction::Read { table_name, .. }
        | AuthAction::Update { table_name, .. }
        | AuthAction::AlterTable { table_name, .. }
        | AuthAction::Analyze { table_name }
        | AuthAction::CreateVtable { table_name, .. }
        | AuthAction::DropVtable { table_name, .. } => Some(table_name),
        AuthAction::CreateView { view_name }
        | AuthAction::CreateTempView { view_name }
        | AuthAction::DropView { view_name }
        | AuthAction::DropTempView { view_name } => Some(view_name),
        AuthAction::Reindex { index_name } => Some(index_name),
        _ => None,
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
            "CREATE TEMP TABLE t (a INT)",
            "CREATE TABLE temp.u (a INT)",
            "CREATE VIEW TEMP.w AS SELECT 1",
            "CREATE TEMP VIEW v AS SELECT 1",
            "CREATE TEMP TRIGGER g AFTER INSERT ON t BEGIN SELECT 1; END",
        ] {
            let err = c.execute_batch(denied).expect_err(denied);
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

    #[test]
    fn litescale_tables_are_litescale_s_alone_in_any_case() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE _litescale_fence (epoch INT)")
            .unwrap();
        install(&mut c).unwrap();
        for denied in [
            "UPDATE \"_LITESCALE_FENCE\" SET epoch = 0",
            "SELECT * FROM _Litescale_Fence",
            "DROP TABLE \"_LITESCALE_FENCE\"",
            "CREATE TABLE \"_LITESCALE_X\" (a INT)",
        ] {
            let e = ShardError::from(c.execute_batch(denied).unwrap_err());
            assert_eq!(e.sqlstate, "42501", "{denied}: {}", e.message);
        }
        as_litescale(|| c.execute_batch("UPDATE _litescale_fence SET epoch = 1")).unwrap();
    }
}
