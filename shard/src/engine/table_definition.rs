//! A table's definition written over in place, the way SQLite documents for changes that
//! leave every stored row valid as it is (a NOT NULL, DEFAULT, CHECK or foreign key added
//! or dropped, a declared type within one storage class): the CREATE TABLE text in
//! sqlite_schema is replaced and the schema version moved on. Unlike making the table
//! again it keeps other tables' foreign keys, views and triggers pointing at it, which is
//! what an ALTER of a referenced table needs (router translate/alter/in_place.rs), and
//! where COMMENT ON keeps its comments (translate/alter/comments.rs).
//!
//! A batch asks for it with `SELECT litescale_set_table_definition(table, create)`; the
//! function only records the request, and [`apply_requested`] makes the edit once that
//! statement is done (a schema cannot change under a running statement). The edit is
//! refused unless the new text makes a valid table whose rows, keys and indexes are stored
//! exactly as the old one's: a tenant's SQL can ask for it, but never corrupt a file with it.

use std::cell::{Cell, RefCell};

use rusqlite::config::DbConfig;
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OptionalExtension, params};

use super::guard::as_litescale;
use super::sql::typecheck::postgres_error;

const FUNCTION: &str = "litescale_set_table_definition";

/// A schema edit a statement asked for, made once the statement is done.
type Edit = Box<dyn FnOnce(&Connection) -> rusqlite::Result<()>>;

thread_local! {
    /// Whether a batch that applies requests runs on this thread.
    static ACCEPTING: Cell<bool> = const { Cell::new(false) };
    /// The edits the statement that ran last asked for, in order.
    static REQUESTED: RefCell<Vec<Edit>> = const { RefCell::new(Vec::new()) };
}

pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(FUNCTION, 2, FunctionFlags::SQLITE_UTF8, |ctx| {
        let (table, create) = (ctx.get::<String>(0)?, ctx.get::<String>(1)?);
        request(FUNCTION, move |conn| replace(conn, &table, &create))?;
        Ok(rusqlite::types::Null)
    })
}

/// Asks for `edit` to be made, as litescale, once the running statement is done: what a
/// SQL function (`function`) that changes the schema does. Refused outside the batches
/// of litescale's schema statements.
pub(crate) fn request(
    function: &str,
    edit: impl FnOnce(&Connection) -> rusqlite::Result<()> + 'static,
) -> rusqlite::Result<()> {
    if !ACCEPTING.get() {
        return Err(postgres_error(
            "42501",
            &format!("{function} runs only in litescale's own schema statements"),
        ));
    }
    REQUESTED.with_borrow_mut(|r| r.push(Box::new(edit)));
    Ok(())
}

/// Runs `job` (a batch) with requests accepted; none outlives it.
pub(crate) fn accepting_requests<R>(job: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            ACCEPTING.set(self.0);
            REQUESTED.with_borrow_mut(Vec::clear);
        }
    }
    let _restore = Restore(ACCEPTING.replace(true));
    job()
}

/// Makes the edits the statement that just ran asked for.
pub(crate) fn apply_requested(conn: &Connection) -> rusqlite::Result<()> {
    for edit in REQUESTED.with_borrow_mut(std::mem::take) {
        as_litescale(|| edit(conn))?;
    }
    Ok(())
}

/// The table that tries a new definition out before it is written.
const TRIAL: &str = "_litescale_definition_check";

fn replace(conn: &Connection, table: &str, create: &str) -> rusqlite::Result<()> {
    replace_retyped(conn, table, create, &[])
}

/// Writes `create` over `table`'s text as [`replace`] does, where the columns `retyped`
/// may take another type (another affinity) as long as they hold no value yet: a column
/// just made with a type that turned out to be a domain (objects/domains.rs).
pub(crate) fn replace_retyped(
    conn: &Connection,
    table: &str,
    create: &str,
    retyped: &[String],
) -> rusqlite::Result<()> {
    for column in retyped {
        let holds: bool = conn.query_row(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM main.\"{}\" WHERE \"{}\" IS NOT NULL)",
                table.replace('"', "\"\""),
                column.replace('"', "\"\"")
            ),
            [],
            |r| r.get(0),
        )?;
        if holds {
            return Err(refused(table, &format!("its column {column} holds values")));
        }
    }
    let Some(body) = create.find('(').map(|at| &create[at..]) else {
        return Err(refused(table, "it is not a CREATE TABLE"));
    };
    // The new text makes a table of its own first: SQLite reads the text only when it loads
    // the schema, so a text it cannot read, or one that keys or stores rows otherwise (an
    // index of a UNIQUE left behind, a rowid no longer), must be caught before it is written.
    conn.execute_batch(&format!("CREATE TABLE main.{TRIAL} {body}"))?;
    let trial = stored_shape(conn, TRIAL);
    conn.execute_batch(&format!("DROP TABLE main.{TRIAL}"))?;
    // What may differ in the retyped columns: their affinity, their keys' collation.
    let without_retyped = |mut shape: StoredShape| {
        let mut cids = Vec::new();
        for (cid, column) in shape.columns.iter_mut().enumerate() {
            if retyped.iter().any(|r| r.eq_ignore_ascii_case(&column.0)) {
                column.3 = Affinity::Blob;
                cids.push(cid as i64);
            }
        }
        for (_, _, columns) in &mut shape.constraint_indexes {
            for column in columns.iter_mut().filter(|c| cids.contains(&c.0)) {
                column.2.clear();
            }
        }
        shape
    };
    if without_retyped(trial?) != without_retyped(stored_shape(conn, table)?) {
        return Err(refused(table, "its rows would be stored differently"));
    }
    write_definition(conn, table, create)?;
    if !retyped.is_empty() {
        conn.execute_batch(&format!("REINDEX main.\"{}\"", table.replace('"', "\"\"")))?;
    }
    Ok(())
}

/// Writes `create` over the table's text and moves the schema version on, unchecked: the
/// caller knows the rows and keys stay valid. A comment on the table's object (a
/// sequence's, a materialized view's: objects/comments.rs) stays.
pub(crate) fn write_definition(
    conn: &Connection,
    table: &str,
    create: &str,
) -> rusqlite::Result<()> {
    let old: Option<String> = conn
        .query_row(
            "SELECT sql FROM main.sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
            [table],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let create = match old {
        Some(old) => super::sql::catalog::marks::carried(&old, create),
        None => create.to_owned(),
    };
    write_schema_text(conn, "table", table, &create)
}

/// Writes `sql` over the text of the `kind` (table, view, index) `name` in sqlite_schema and
/// moves the schema version on, unchecked: the caller knows SQLite reads it as before.
pub(crate) fn write_schema_text(
    conn: &Connection,
    kind: &str,
    name: &str,
    sql: &str,
) -> rusqlite::Result<()> {
    let (table, create) = (name, sql);
    let old: Option<String> = conn
        .query_row(
            "SELECT sql FROM main.sqlite_schema WHERE type = ?1 AND name = ?2 COLLATE NOCASE",
            [kind, name],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    // A role that is not a superuser changes no definition whose privileges are set.
    super::privileges::may_rewrite(kind, name, old.as_deref().unwrap_or_default(), sql)?;
    let version: i64 = conn.query_row("PRAGMA schema_version", [], |r| r.get(0))?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, false)?;
    let written = (|| -> rusqlite::Result<usize> {
        conn.execute_batch("PRAGMA writable_schema = ON")?;
        let changed = conn.execute(
            "UPDATE main.sqlite_schema SET sql = ?1 \
             WHERE type = ?3 AND name = ?2 COLLATE NOCASE",
            params![create, table, kind],
        )?;
        // Other connections load the schema again when its version moves.
        conn.execute_batch(&format!("PRAGMA schema_version = {}", version + 1))?;
        Ok(changed)
    })();
    let reset = conn.execute_batch("PRAGMA writable_schema = RESET");
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    if written? != 1 {
        return Err(refused(table, "there is no such table"));
    }
    reset
}

fn refused(table: &str, why: &str) -> rusqlite::Error {
    postgres_error(
        "XX000",
        &format!("the definition of \"{table}\" cannot be changed in place: {why}"),
    )
}

/// What decides how a table's rows and index entries are stored: its columns' names,
/// order, affinities and key roles; the indexes its constraints make, in the order SQLite
/// numbers them, with their columns, order and collations; whether it is WITHOUT ROWID or
/// STRICT. Indexes made by CREATE INDEX stand apart from the table's text.
#[derive(PartialEq, Debug)]
struct StoredShape {
    columns: Vec<(String, i64, i64, Affinity)>,
    constraint_indexes: Vec<ConstraintIndex>,
    kind: Option<(i64, i64)>,
}

/// An index a constraint makes: its origin ("u", "pk"), whether unique, and its columns
/// (cid, descending, collation, key) in order.
type ConstraintIndex = (String, i64, Vec<(i64, i64, String, i64)>);

fn stored_shape(conn: &Connection, table: &str) -> rusqlite::Result<StoredShape> {
    let columns = conn
        .prepare("SELECT name, pk, hidden, type FROM pragma_table_xinfo(?1) ORDER BY cid")?
        .query_map([table], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                affinity(&r.get::<_, String>(3)?),
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut named: Vec<(String, String, i64)> = conn
        .prepare("SELECT name, origin, \"unique\" FROM pragma_index_list(?1) WHERE origin <> 'c'")?
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    // sqlite_autoindex_<table>_<n>: n is the constraint's place in the table's text.
    let number = |name: &str| -> u64 {
        name.rsplit('_')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    named.sort_by_key(|(name, ..)| number(name));
    let mut constraint_indexes = Vec::new();
    for (name, origin, unique) in named {
        let columns = conn
            .prepare("SELECT cid, \"desc\", coll, key FROM pragma_index_xinfo(?1) ORDER BY seqno")?
            .query_map([&name], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        constraint_indexes.push((origin, unique, columns));
    }
    let kind = conn
        .prepare("SELECT wr, strict FROM pragma_table_list(?1) WHERE schema = 'main'")?
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
        .next()
        .transpose()?;
    Ok(StoredShape {
        columns,
        constraint_indexes,
        kind,
    })
}

#[derive(PartialEq, Debug)]
enum Affinity {
    Integer,
    Text,
    Blob,
    Real,
    Numeric,
}

/// A declared type's affinity, by SQLite's rules (datatype3.html, 3.1).
fn affinity(declared: &str) -> Affinity {
    let t = declared.to_ascii_uppercase();
    if t.contains("INT") {
        Affinity::Integer
    } else if ["CHAR", "CLOB", "TEXT"].iter().any(|s| t.contains(s)) {
        Affinity::Text
    } else if t.contains("BLOB") || t.is_empty() {
        Affinity::Blob
    } else if ["REAL", "FLOA", "DOUB"].iter().any(|s| t.contains(s)) {
        Affinity::Real
    } else {
        Affinity::Numeric
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::statements::execute_statements;

    fn connection() -> Connection {
        let mut c = Connection::open_in_memory().unwrap();
        c.pragma_update(None, "foreign_keys", "ON").unwrap();
        crate::engine::sql::functions::register(&c).unwrap();
        register(&c).unwrap();
        c.execute_batch(
            "CREATE TABLE parent (id INTEGER PRIMARY KEY, name VARCHAR(5) NOT NULL UNIQUE);
             CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INT REFERENCES parent (id));
             INSERT INTO parent VALUES (1, 'a'); INSERT INTO child VALUES (1, 1);",
        )
        .unwrap();
        crate::engine::guard::install(&mut c).unwrap();
        c
    }

    fn parent_sql(c: &Connection) -> String {
        c.query_row(
            "SELECT sql FROM sqlite_schema WHERE name = 'parent'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    }

    #[test]
    fn a_referenced_table_changes_in_place_and_keeps_its_rows_and_references() {
        let c = connection();
        let version = |c: &Connection| -> i64 {
            as_litescale(|| c.query_row("PRAGMA schema_version", [], |r| r.get(0))).unwrap()
        };
        let before = version(&c);
        let new = "CREATE TABLE parent (id INTEGER PRIMARY KEY, name VARCHAR(20) UNIQUE)";
        execute_statements(
            &c,
            &format!("SELECT litescale_set_table_definition('parent', '{new}')"),
        )
        .unwrap();
        assert_eq!(parent_sql(&c), new);
        assert!(version(&c) > before);
        // NOT NULL is gone; the child's reference still names parent and still holds.
        c.execute_batch("INSERT INTO parent VALUES (2, NULL)")
            .unwrap();
        let e = c
            .execute_batch("INSERT INTO child VALUES (2, 9)")
            .unwrap_err();
        assert!(e.to_string().contains("FOREIGN KEY"), "{e}");
        let n: i64 = c
            .query_row(
                "SELECT count(*) FROM child JOIN parent ON parent.id = parent_id",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1);
        let check: String =
            as_litescale(|| c.query_row("PRAGMA integrity_check", [], |r| r.get(0))).unwrap();
        assert_eq!(check, "ok");
    }

    #[test]
    fn a_definition_that_would_store_rows_differently_is_refused_and_nothing_changes() {
        let c = connection();
        let old = parent_sql(&c);
        for (new, why) in [
            // The UNIQUE's index would be left behind.
            (
                "CREATE TABLE parent (id INTEGER PRIMARY KEY, name VARCHAR(5) NOT NULL)",
                "stored differently",
            ),
            // No longer the rowid.
            (
                "CREATE TABLE parent (id INT PRIMARY KEY, name VARCHAR(5) NOT NULL UNIQUE)",
                "stored differently",
            ),
            // Text affinity becomes integer.
            (
                "CREATE TABLE parent (id INTEGER PRIMARY KEY, name INT NOT NULL UNIQUE)",
                "stored differently",
            ),
            (
                "CREATE TABLE parent (id INTEGER PRIMARY KEY, name VARCHAR(5) NOT NULL UNIQUE, x INT)",
                "stored differently",
            ),
            (
                "CREATE TABLE parent (id INTEGER PRIMARY KEY, name VARCHAR(5) NOT NULL UNIQUE",
                "incomplete input",
            ),
            ("DROP TABLE child", "not a CREATE TABLE"),
        ] {
            let batch =
                format!("SAVEPOINT s; SELECT litescale_set_table_definition('parent', '{new}')");
            let e = execute_statements(&c, &batch).unwrap_err();
            assert!(e.to_string().contains(why), "{new}: {e}");
            c.execute_batch("ROLLBACK TO s; RELEASE s").unwrap();
            assert_eq!(parent_sql(&c), old);
            let n: i64 = c
                .query_row("SELECT count(*) FROM parent", [], |r| r.get(0))
                .unwrap();
            assert_eq!(n, 1, "{new}");
        }
    }

    #[test]
    fn outside_a_batch_the_function_refuses() {
        let c = connection();
        let e = c
            .query_row(
                "SELECT litescale_set_table_definition('parent', 'CREATE TABLE parent (id INT)')",
                [],
                |r| r.get::<_, Option<i64>>(0),
            )
            .unwrap_err();
        assert!(e.to_string().contains("runs only in"), "{e}");
    }

    #[test]
    fn affinities_follow_sqlite_rules() {
        assert_eq!(affinity("BIGINT"), Affinity::Integer);
        assert_eq!(affinity("VARCHAR(255)"), Affinity::Text);
        assert_eq!(affinity(""), Affinity::Blob);
        assert_eq!(affinity("DOUBLE PRECISION"), Affinity::Real);
        assert_eq!(affinity("NUMERIC(20,2)"), Affinity::Numeric);
        assert_eq!(affinity("TIMESTAMP"), Affinity::Numeric);
    }
}
