//! GENERATED ALWAYS AS IDENTITY: a column that takes only the numbers its sequence hands
//! out. SQLite cannot tell a value its DEFAULT made from one the statement gave, so the
//! default tells: `nextval('<sequence>', 'a')` (router translate/columns.rs) leaves the
//! number it handed out here, and the column's CHECK `pg_identity_given(column, sequence, name)`
//! takes it back, accepting the row only when its value is that number. A value the
//! statement gave finds none: 428C9, as Postgres answers an INSERT of a value or an UPDATE
//! to one. Both happen row by row within one statement, whose start forgets what an earlier
//! one left ([`for_statement`]). `INSERT ... OVERRIDING SYSTEM VALUE` (marked by the router)
//! and COPY FROM give values that are taken as they are.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;

use crate::engine::sql::typecheck::postgres_error;

/// What the router puts after an INSERT ... OVERRIDING SYSTEM VALUE, or the copy of a
/// table's rows it makes again (router translate/columns.rs): the statement or batch that
/// holds it overrides. Any client may ask for that with OVERRIDING SYSTEM VALUE anyway.
const OVERRIDING_MARK: &str = "/* litescale:overriding system value */";

thread_local! {
    /// The numbers each GENERATED ALWAYS sequence handed out for rows not yet written: one,
    /// or with RETURNING every row's, which SQLite computes before it writes any.
    static HANDED: RefCell<HashMap<String, Vec<i64>>> = RefCell::new(HashMap::new());
    /// Whether the running statement's values override the identity.
    static OVERRIDING: Cell<bool> = const { Cell::new(false) };
}

pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function("pg_identity_given", 3, FunctionFlags::SQLITE_UTF8, |ctx| {
        let value = ctx.get::<Option<i64>>(0)?;
        let sequence = ctx.get::<String>(1)?;
        let handed = value.is_some_and(|value| {
            HANDED.with_borrow_mut(|h| {
                let numbers = h.entry(sequence).or_default();
                let found = numbers.iter().position(|n| *n == value);
                found.map(|i| numbers.swap_remove(i)).is_some()
            })
        });
        if OVERRIDING.get() || handed {
            return Ok(true);
        }
        let column = ctx.get::<String>(2)?;
        Err(postgres_error(
            "428C9",
            &format!("cannot insert a non-DEFAULT value into column \"{column}\""),
        ))
    })
}

/// Keeps the number `sequence` handed out to a GENERATED ALWAYS column's row.
pub(super) fn handed_out(sequence: &str, value: i64) {
    HANDED.with_borrow_mut(|h| h.entry(sequence.to_owned()).or_default().push(value));
}

/// Runs one statement (or batch) `sql`, its values overriding identities where it holds
/// the mark or is `copy` (COPY FROM), with nothing an earlier statement handed out.
pub(crate) fn for_statement<R>(sql: &str, copy: bool, run: impl FnOnce() -> R) -> R {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            OVERRIDING.set(false);
            HANDED.with_borrow_mut(HashMap::clear);
        }
    }
    OVERRIDING.set(copy || sql.contains(OVERRIDING_MARK));
    let _reset = Reset;
    run()
}
