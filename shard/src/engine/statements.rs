//! Running statements on one SQLite connection: executed whole into a result, streamed
//! in batches, described, or run as an atomic batch; and the bound on what a
//! materialised result may hold.

use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::{CachedStatement, Connection, params_from_iter};

use crate::engine::objects::functions::register_named;
use crate::engine::objects::identity::for_statement;
use crate::engine::privileges::{after_role_mark, as_role_of};
use crate::engine::sql::datetime::running_in_zone_of;
use crate::engine::table_definition::{accepting_requests, apply_requested};
use crate::error::ShardError;
use crate::interrupt::Interrupter;
use crate::messages::{Response, STREAM_BATCH_ROWS};
use crate::value::{ColumnMeta, Outcome, Rows, Value};

/// Runs the statement (or batch) `sql` as its session asked: as its role (privileges/),
/// in the session's zone, with what its identity columns take decided for it alone
/// (objects/identity.rs).
pub(crate) fn as_statement<R>(
    conn: &Connection,
    sql: &str,
    run: impl FnOnce() -> R,
) -> rusqlite::Result<R> {
    running(conn, sql, false, run)
}

/// [`as_statement`] for the INSERT a COPY FROM runs, which gives identity columns their
/// values as Postgres' COPY does.
pub(crate) fn as_copy<R>(
    conn: &Connection,
    sql: &str,
    run: impl FnOnce() -> R,
) -> rusqlite::Result<R> {
    running(conn, sql, true, run)
}

fn running<R>(
    conn: &Connection,
    sql: &str,
    copy: bool,
    run: impl FnOnce() -> R,
) -> rusqlite::Result<R> {
    as_role_of(conn, sql, || {
        for_statement(sql, copy, || running_in_zone_of(after_role_mark(sql), run))
    })
}

/// Streams a read's result into `send`: its columns, then batches of rows, then `End` (or
/// an error). Stops early when `send` returns false (the receiver went away). Returns the
/// rows sent.
pub(crate) fn stream(
    conn: &Connection,
    sql: &str,
    params: &[Value],
    interrupter: &Interrupter,
    send: impl FnMut(Response) -> bool,
) -> u64 {
    let mut send = send;
    match as_statement(conn, sql, || {
        stream_rows(conn, sql, params, interrupter, &mut send)
    }) {
        Ok(sent) => sent,
        Err(e) => {
            send(Response::Error(e.into()));
            0
        }
    }
}

fn stream_rows(
    conn: &Connection,
    sql: &str,
    params: &[Value],
    interrupter: &Interrupter,
    mut send: impl FnMut(Response) -> bool,
) -> u64 {
    let mut stmt = match prepared(conn, sql) {
        Ok(s) => s,
        Err(e) => {
            send(Response::Error(e.into()));
            return 0;
        }
    };
    if !stmt.readonly() {
        send(Response::Error(ShardError::new(
            "25006",
            "a streamed query must only read",
        )));
        return 0;
    }
    interrupter.arm(conn.get_interrupt_handle());
    let mut sent = 0;
    let mut batch = Vec::with_capacity(STREAM_BATCH_ROWS);
    // The columns are read once the statement has taken a step (see `execute`).
    let mut columns_sent = false;
    let failure = (|| -> Result<bool, ShardError> {
        let mut cursor = stmt.query(params_from_iter(params))?;
        while let Some(row) = cursor.next()? {
            if !columns_sent {
                columns_sent = true;
                if !send(Response::Columns(column_meta(row.as_ref()))) {
                    return Ok(false);
                }
            }
            batch.push(row_values(row, row.as_ref().column_count())?);
            if batch.len() == STREAM_BATCH_ROWS {
                sent += batch.len() as u64;
                let full = std::mem::replace(&mut batch, Vec::with_capacity(STREAM_BATCH_ROWS));
                if !send(Response::Rows(full)) {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    })();
    interrupter.disarm();
    if matches!(failure, Ok(true)) && !columns_sent && !send(Response::Columns(column_meta(&stmt)))
    {
        return 0;
    }
    match failure {
        Ok(true) => {
            sent += batch.len() as u64;
            if (batch.is_empty() || send(Response::Rows(batch))) && send(Response::End) {}
        }
        Ok(false) => {}
        Err(e) => {
            send(Response::Error(e));
        }
    }
    sent
}

pub(crate) fn run(
    conn: &Connection,
    sql: &str,
    params: &[Value],
    interrupter: &Interrupter,
    read_only: bool,
    max_result_bytes: usize,
) -> Result<Option<Outcome>, ShardError> {
    as_statement(conn, sql, || {
        let mut stmt = prepared(conn, sql)?;
        if read_only && !stmt.readonly() {
            return Ok(None);
        }
        // The proxy checks the parameter count at Bind. One partition's share of a split
        // INSERT uses only some of the parameters: the highest it names bounds the list.
        let params = &params[..params.len().min(stmt.parameter_count())];
        interrupter.arm(conn.get_interrupt_handle());
        let result = execute(&mut stmt, conn, params, max_result_bytes);
        interrupter.disarm();
        result.map(Some)
    })?
}

/// Several statements as one unit, inside a savepoint: in autocommit mode the savepoint is
/// the transaction; inside a transaction it undoes only this batch on error.
pub(crate) fn run_batch(conn: &Connection, sql: &str) -> Result<Outcome, ShardError> {
    conn.execute_batch("SAVEPOINT litescale_batch")?;
    match execute_statements(conn, sql) {
        Ok(()) => {
            conn.execute_batch("RELEASE litescale_batch")?;
            Ok(Outcome::Changed(0))
        }
        Err(e) => {
            conn.execute_batch("ROLLBACK TO litescale_batch; RELEASE litescale_batch")?;
            Err(e.into())
        }
    }
}

/// Runs several statements in the session's zone, one at a time as `execute_batch` does,
/// each followed by the table definitions it asked to have written over
/// (table_definition.rs). A batch that turned `legacy_alter_table` on (a table made again:
/// router translate/alter/rebuild.rs) has it off again whatever its outcome, as the
/// connection serves every session after it.
pub(crate) fn execute_statements(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    let result = as_statement(conn, sql, || {
        accepting_requests(|| {
            let mut batch = rusqlite::Batch::new(conn, sql);
            while let Some(mut statement) = batch.next()? {
                statement.raw_query().next()?;
                drop(statement);
                apply_requested(conn)?;
            }
            Ok(())
        })
    })
    .and_then(|r| r);
    if sql.contains("legacy_alter_table") {
        conn.execute_batch("PRAGMA legacy_alter_table = OFF")?;
    }
    result
}

fn execute(
    stmt: &mut rusqlite::CachedStatement<'_>,
    conn: &Connection,
    params: &[Value],
    max_result_bytes: usize,
) -> Result<Outcome, ShardError> {
    if stmt.column_count() == 0 {
        stmt.execute(params_from_iter(params))?;
        return Ok(Outcome::Changed(conn.changes()));
    }
    let mut rows = Vec::new();
    let mut held = 0usize;
    let mut cursor = stmt.query(params_from_iter(params))?;
    while let Some(row) = cursor.next()? {
        let values = row_values(row, row.as_ref().column_count())?;
        held += values.iter().map(Value::held_bytes).sum::<usize>();
        if held > max_result_bytes {
            return Err(result_too_large(max_result_bytes));
        }
        rows.push(values);
    }
    drop(cursor);
    // Read after the statement ran: a cached statement is prepared again at its first step
    // when another connection changed the schema since, and only then do its columns
    // (`SELECT *`, a column's declared type) say what the rows are.
    Ok(Outcome::Rows(Rows {
        columns: column_meta(stmt),
        rows,
    }))
}

/// The SQLSTATE of [`result_too_large`].
pub(crate) const RESULT_TOO_LARGE: &str = "54000";

/// 54000 for a result that would hold more than `limits.max_result_mb` in memory.
pub fn result_too_large(max_result_bytes: usize) -> ShardError {
    ShardError::new(
        RESULT_TOO_LARGE,
        format!(
            "result is larger than limits.max_result_mb allows ({} MiB); a SELECT outside \
             a transaction block streams instead, or narrow the result",
            max_result_bytes >> 20
        ),
    )
}

/// A result row's values, as SQLite holds them.
fn row_values(row: &rusqlite::Row<'_>, width: usize) -> Result<Vec<Value>, ShardError> {
    let mut values = Vec::with_capacity(width);
    for i in 0..width {
        values.push(Value::from(row.get_ref(i)?));
    }
    Ok(values)
}

fn column_meta(stmt: &rusqlite::Statement<'_>) -> Vec<ColumnMeta> {
    stmt.columns()
        .map(|c| ColumnMeta {
            name: c.name().to_owned(),
            decl_type: c.decl_type().map(str::to_owned),
        })
        .collect()
}

pub(crate) fn describe(conn: &Connection, sql: &str) -> Result<Vec<ColumnMeta>, ShardError> {
    // Prepared anew: a cached statement's columns are those of the schema it was cached
    // under until it next runs.
    let stmt = with_functions(conn, || conn.prepare(sql))?;
    Ok(column_meta(&stmt))
}

/// `sql` prepared and cached, as [`with_functions`] prepares it.
fn prepared<'c>(conn: &'c Connection, sql: &str) -> rusqlite::Result<CachedStatement<'c>> {
    with_functions(conn, || conn.prepare_cached(sql))
}

/// What `prepare` answers once the database's SQL functions the statement calls that this
/// connection has not met yet are registered (objects/functions.rs).
fn with_functions<S>(
    conn: &Connection,
    prepare: impl Fn() -> rusqlite::Result<S>,
) -> rusqlite::Result<S> {
    // Each round registers the functions of one name SQLite did not know.
    for _ in 0..8 {
        match prepare() {
            Err(e) if register_named(conn, &e) => continue,
            result => return result,
        }
    }
    prepare()
}

pub(crate) fn table_columns(
    conn: &Connection,
    tables: &[String],
) -> Result<Vec<(String, Vec<ColumnMeta>)>, ShardError> {
    let mut out = Vec::with_capacity(tables.len());
    // A tenant's tables are in `main`; the catalog's views in `temp`: information_schema's,
    // which its tables' names never shadow, and pg_catalog's where no table of its has
    // the name (the catalog's columns are read by their names).
    let mut stmt = conn.prepare_cached(
        "SELECT name, type FROM pragma_table_info(?1, \
         CASE WHEN ?1 LIKE 'information\\_schema.%' ESCAPE '\\' \
           OR (?1 LIKE 'pg\\_%' ESCAPE '\\' AND NOT EXISTS \
             (SELECT 1 FROM main.sqlite_schema WHERE name = ?1 COLLATE NOCASE)) \
         THEN 'temp' ELSE 'main' END)",
    )?;
    for table in tables {
        let columns = stmt
            .query_map([table], |r| {
                let decl: String = r.get(1)?;
                Ok(ColumnMeta {
                    name: r.get(0)?,
                    decl_type: (!decl.is_empty()).then_some(decl),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        if !columns.is_empty() {
            out.push((table.clone(), columns));
        }
    }
    Ok(out)
}
