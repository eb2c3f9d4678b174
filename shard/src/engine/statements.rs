//! The SQLite side of a worker, synchronous: what each request does on a connection.
//! The same code serves a partition in process (on tokio's blocking pool) and in a
//! worker process (on a link's thread), so both behave alike to the byte.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, params_from_iter};

use crate::error::ShardError;
use crate::fence::Fence;
use crate::guard::as_litescale;
use crate::interrupt::Interrupter;
use crate::partition::ConnectionOptions;
use crate::protocol::{Request, Response, STREAM_BATCH_ROWS};
use crate::redo::{Recording, Redo};
use crate::txlog::{COMMITS_TABLE, forget_commits_below, record_commit};
use crate::value::{ColumnMeta, Outcome, Rows, Value};

/// How long a new primary waits for a dead one's election lock to be released.
pub(crate) const ELECTION_WAIT: Duration = Duration::from_secs(2);

/// A partition's only writing connection, fenced as its primary.
pub(crate) struct Writer {
    conn: Connection,
    fence: Fence,
    /// For a transaction that may be one part of a cross-partition transaction. It must
    /// end before the connection serves anyone else, or it would record their changes.
    recording: Option<Recording>,
    /// Bytes one statement's materialised result may hold (`limits.max_result_mb`).
    max_result_bytes: usize,
}

impl Writer {
    /// Opens the partition's file for writing and becomes its primary, waiting up to
    /// `wait` for a dying primary's election lock (see [`Fence::acquire`]).
    pub fn open(
        path: &Path,
        options: &ConnectionOptions,
        wait: Duration,
        force: bool,
    ) -> Result<Writer, ShardError> {
        Standby::open(path, options)?.promote(path, wait, force)
    }

    pub fn epoch(&self) -> i64 {
        self.fence.epoch()
    }

    /// Rolls back a transaction its user abandoned (client gone, link closed).
    pub fn abandon(&mut self) {
        self.recording = None;
        if !self.conn.is_autocommit()
            && let Err(e) = self.conn.execute_batch("ROLLBACK")
        {
            tracing::error!(error = %e, "rollback of an abandoned transaction failed");
        }
    }

    /// BEGIN IMMEDIATE, then the fence: nothing is written unless this is still the primary.
    fn begin(&self) -> Result<(), ShardError> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        if let Err(e) = self.fence.check(&self.conn) {
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(e);
        }
        Ok(())
    }

    /// Runs `job` in a transaction of its own, committed (durably) if it succeeds.
    fn in_own_transaction(
        &self,
        job: impl FnOnce(&Connection) -> Result<Outcome, ShardError>,
    ) -> Result<Outcome, ShardError> {
        self.begin()?;
        match job(&self.conn) {
            Ok(outcome) => {
                if let Err(e) = self.conn.execute_batch("COMMIT") {
                    let _ = self.conn.execute_batch("ROLLBACK");
                    return Err(e.into());
                }
                Ok(outcome)
            }
            Err(e) => {
                if !self.conn.is_autocommit() {
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
                Err(e)
            }
        }
    }

    /// Recovery of a decided cross-partition transaction: commits its part here, from its
    /// redo, unless this partition already did. Returns whether it replayed.
    pub fn finish_decided(
        &self,
        txid: u64,
        redo: impl FnOnce() -> Result<Redo, ShardError>,
    ) -> Result<bool, ShardError> {
        let c = &self.conn;
        let committed: bool = as_litescale(|| {
            c.query_row(
                &format!("SELECT EXISTS (SELECT 1 FROM {COMMITS_TABLE} WHERE txid = ?1)"),
                [txid as i64],
                |r| r.get(0),
            )
        })?;
        if committed {
            return Ok(false);
        }
        let redo = redo()?;
        self.in_own_transaction(|c| {
            redo.apply(c)?;
            record_commit(c, txid)?;
            Ok(Outcome::Changed(0))
        })?;
        Ok(true)
    }

    pub fn forget_commits_below(&self, txid: u64) -> Result<(), ShardError> {
        forget_commits_below(&self.conn, txid)
    }

    /// Serves one request on the writer.
    pub fn serve(&mut self, request: Request, interrupter: &Interrupter) -> Response {
        self.try_serve(request, interrupter)
            .unwrap_or_else(Response::Error)
    }

    /// Serves one request on the writer, with `long` called once if it passes
    /// `INLINE_STEPS` steps.
    pub fn serve_noting_long(
        &mut self,
        request: Request,
        interrupter: &Interrupter,
        long: fn(),
    ) -> Response {
        if let Err(e) = note_long(&mut self.conn, long) {
            return Response::Error(e);
        }
        let response = self.serve(request, interrupter);
        stop_noting_long(&mut self.conn);
        response
    }

    fn try_serve(
        &mut self,
        request: Request,
        interrupter: &Interrupter,
    ) -> Result<Response, ShardError> {
        let c = &self.conn;
        Ok(match request {
            Request::WriteGroup { writes } => {
                let mut outcomes = Vec::with_capacity(writes.len());
                self.in_own_transaction(|c| {
                    for (sql, params) in &writes {
                        c.execute_batch("SAVEPOINT litescale_write")?;
                        let outcome =
                            run(c, sql, params, interrupter, false, self.max_result_bytes)
                                .map(|o| o.unwrap_or(Outcome::Changed(0)));
                        if let Err(e) = &outcome {
                            // An interrupted write takes SQLite's whole transaction with
                            // it; only a group of one is ever interrupted.
                            if c.is_autocommit() {
                                return Err(e.clone());
                            }
                            c.execute_batch("ROLLBACK TO litescale_write")?;
                        }
                        c.execute_batch("RELEASE litescale_write")?;
                        outcomes.push(outcome);
                    }
                    Ok(Outcome::Changed(0))
                })?;
                Response::Outcomes(outcomes)
            }
            Request::WriteBatch { sql } => Response::Outcome(self.in_own_transaction(|c| {
                c.execute_batch(&sql)?;
                Ok(Outcome::Changed(0))
            })?),
            Request::Maintain { sql } => {
                self.fence.check(c)?;
                c.execute_batch(&sql)?;
                Response::Outcome(Outcome::Changed(0))
            }
            Request::Begin { recorded } => {
                self.begin()?;
                if recorded {
                    match Recording::start(c) {
                        Ok(r) => self.recording = Some(r),
                        Err(e) => {
                            let _ = c.execute_batch("ROLLBACK");
                            return Err(e);
                        }
                    }
                }
                Response::Done
            }
            Request::Execute { sql, params } => Response::Outcome(
                run(c, &sql, &params, interrupter, false, self.max_result_bytes)?
                    .unwrap_or(Outcome::Changed(0)),
            ),
            Request::ExecuteBatch { sql } => Response::Outcome(run_batch(c, &sql)?),
            Request::SchemaChange { sql } => {
                if let Some(recording) = &mut self.recording {
                    recording.schema_change(c, &sql)?;
                }
                Response::Outcome(run_batch(c, &sql)?)
            }
            Request::InsertRows { sql, rows } => {
                let mut stmt = c.prepare_cached(&sql)?;
                for row in &rows {
                    stmt.execute(params_from_iter(row))?;
                }
                Response::Count(rows.len() as u64)
            }
            Request::Prepare => {
                let recording = self.recording.as_mut().ok_or_else(|| {
                    ShardError::new("XX000", "this transaction did not record its changes")
                })?;
                Response::Redo(recording.redo(c)?.encode())
            }
            Request::CommitDecided { txid, forget_below } => {
                self.recording = None;
                record_commit(c, txid)?;
                forget_commits_below(c, forget_below)?;
                c.execute_batch("COMMIT")?;
                Response::Done
            }
            Request::Commit => {
                self.recording = None;
                if c.is_autocommit() {
                    // SQLite already rolled it back (an interrupted write does that).
                    return Err(ShardError::new(
                        "40000",
                        "the transaction was rolled back by the storage engine",
                    ));
                }
                c.execute_batch("COMMIT")?;
                Response::Done
            }
            Request::Rollback => {
                self.recording = None;
                if !c.is_autocommit() {
                    c.execute_batch("ROLLBACK")?;
                }
                Response::Done
            }
            Request::Describe { sql } => Response::Columns(describe(c, &sql)?),
            Request::TableColumns { tables } => Response::Tables(table_columns(c, &tables)?),
            other => serve_read(c, &other, interrupter, self.max_result_bytes)?,
        })
    }
}

/// A writable connection to a partition, set up but not the primary: it writes nothing
/// until promoted. A replica keeps one, so that its promotion only takes the election lock
/// and a new epoch (failover time).
pub(crate) struct Standby {
    conn: Connection,
    max_result_bytes: usize,
}

impl Standby {
    pub fn open(path: &Path, options: &ConnectionOptions) -> Result<Standby, ShardError> {
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // WAL: readers never block the writer and see each commit as soon as it is made.
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(ShardError::new(
                "58030",
                format!("{} cannot use WAL mode (got {mode})", path.display()),
            ));
        }
        let synchronous = crate::durability::writer_pragma(options.storage.synchronous);
        conn.pragma_update(None, "synchronous", synchronous)?;
        configure(&mut conn, options)?;
        Ok(Standby {
            conn,
            max_result_bytes: options.max_result_bytes,
        })
    }

    /// Becomes the primary: the election lock, a new epoch, then litescale's own table.
    pub fn promote(self, path: &Path, wait: Duration, force: bool) -> Result<Writer, ShardError> {
        let Standby {
            conn,
            max_result_bytes,
        } = self;
        let fence = Fence::acquire(path, &conn, wait, force)?;
        as_litescale(|| {
            conn.execute_batch(&format!(
                "CREATE TABLE IF NOT EXISTS {COMMITS_TABLE} (txid INTEGER PRIMARY KEY)"
            ))
        })?;
        Ok(Writer {
            conn,
            fence,
            recording: None,
            max_result_bytes,
        })
    }
}

/// Opens a read-only connection to a partition's file.
pub(crate) fn open_reader(
    path: &Path,
    options: &ConnectionOptions,
) -> Result<Connection, ShardError> {
    let mut c = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&mut c, options)?;
    Ok(c)
}

/// Serves a request that only reads.
pub(crate) fn serve_reader(
    c: &Connection,
    request: &Request,
    interrupter: &Interrupter,
    max_result_bytes: usize,
) -> Response {
    serve_read(c, request, interrupter, max_result_bytes).unwrap_or_else(Response::Error)
}

/// SQLite virtual-machine steps a statement runs on an async thread before that thread's
/// other work goes on elsewhere (a point select takes a few dozen; this many take well
/// under a millisecond).
const INLINE_STEPS: u32 = 10_000;

/// How many steps apart SQLite calls the progress handler that counts them. SQLite counts
/// a prepared statement's steps across all its executions, so on a cached statement the
/// first call comes at any step, even the first: counting calls, not trusting the first
/// one, bounds the steps of this execution. (With a handler every `INLINE_STEPS`, one in
/// every few hundred runs of a point select was taken for a long one.)
const STEPS_PER_CALL: u32 = 1_000;

/// Has SQLite call `long` once, from inside the statement and on its thread, when what
/// runs next on `c` passes `INLINE_STEPS` steps; the statement goes on. Until
/// [`stop_noting_long`].
pub(crate) fn note_long(c: &mut Connection, long: fn()) -> Result<(), ShardError> {
    let mut calls = 0;
    let handler = move || {
        calls += 1;
        if calls == INLINE_STEPS / STEPS_PER_CALL + 1 {
            long();
        }
        false
    };
    Ok(c.progress_handler(STEPS_PER_CALL as i32, Some(handler))?)
}

pub(crate) fn stop_noting_long(c: &mut Connection) {
    // Only fails while the handler runs, which it does not now.
    let _ = c.progress_handler(0, None::<fn() -> bool>);
}

/// Serves a read, with `long` called once if it passes `INLINE_STEPS` steps.
pub(crate) fn serve_reader_noting_long(
    c: &mut Connection,
    request: &Request,
    interrupter: &Interrupter,
    max_result_bytes: usize,
    long: fn(),
) -> Response {
    if let Err(e) = note_long(c, long) {
        return Response::Error(e);
    }
    let response = serve_reader(c, request, interrupter, max_result_bytes);
    stop_noting_long(c);
    response
}

fn serve_read(
    c: &Connection,
    request: &Request,
    interrupter: &Interrupter,
    max_result_bytes: usize,
) -> Result<Response, ShardError> {
    Ok(match request {
        Request::Read {
            sql,
            params,
            budget,
        } => {
            let max_result_bytes = budget
                .and_then(|b| usize::try_from(b).ok())
                .map_or(max_result_bytes, |b| b.min(max_result_bytes));
            Response::MaybeOutcome(run(c, sql, params, interrupter, true, max_result_bytes)?)
        }
        Request::Describe { sql } => Response::Columns(describe(c, sql)?),
        Request::TableColumns { tables } => Response::Tables(table_columns(c, tables)?),
        other => {
            return Err(ShardError::new(
                "25006",
                format!("a reader cannot serve {}", request_name(other)),
            ));
        }
    })
}

fn request_name(request: &Request) -> String {
    let debug = format!("{request:?}");
    debug
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Streams a read's result into `send`: its columns, then batches of rows, then `End` (or
/// an error). Stops early when `send` returns false (the receiver went away). Returns the
/// rows sent.
pub(crate) fn stream(
    conn: &Connection,
    sql: &str,
    params: &[Value],
    interrupter: &Interrupter,
    mut send: impl FnMut(Response) -> bool,
) -> u64 {
    let mut stmt = match conn.prepare_cached(sql) {
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
    let columns = column_meta(&stmt);
    let width = columns.len();
    if !send(Response::Columns(columns)) {
        return 0;
    }
    interrupter.arm(conn.get_interrupt_handle());
    let mut sent = 0;
    let mut batch = Vec::with_capacity(STREAM_BATCH_ROWS);
    let failure = (|| -> Result<bool, ShardError> {
        let mut cursor = stmt.query(params_from_iter(params))?;
        while let Some(row) = cursor.next()? {
            batch.push(row_values(row, width)?);
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

/// Sets a connection up as every litescale connection is; the guard comes last, after
/// litescale's own PRAGMAs and catalog views.
pub(crate) fn configure(c: &mut Connection, options: &ConnectionOptions) -> Result<(), ShardError> {
    c.busy_timeout(Duration::from_millis(options.storage.busy_timeout_ms))?;
    // Postgres always enforces foreign keys; SQLite only when asked.
    c.pragma_update(None, "foreign_keys", "ON")?;
    // Postgres' LIKE is case-sensitive; SQLite's is not unless asked.
    c.pragma_update(None, "case_sensitive_like", "ON")?;
    let mmap_bytes = options.storage.mmap_mb.saturating_mul(1 << 20);
    c.pragma_update(
        None,
        "mmap_size",
        i64::try_from(mmap_bytes).unwrap_or(i64::MAX),
    )?;
    crate::functions::register(c)?;
    crate::arrays::register(c)?;
    crate::typecheck::register(c, &options.types)?;
    crate::catalog::register(c, &options.database, &options.root, &options.types)?;
    c.set_prepared_statement_cache_capacity(options.statement_cache);
    crate::guard::install(c)
}

/// How long a request kept SQLite busy, for metering.
pub(crate) fn timed<R>(job: impl FnOnce() -> R) -> (R, u64) {
    let started = Instant::now();
    let result = job();
    let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    (result, nanos)
}

fn run(
    conn: &Connection,
    sql: &str,
    params: &[Value],
    interrupter: &Interrupter,
    read_only: bool,
    max_result_bytes: usize,
) -> Result<Option<Outcome>, ShardError> {
    let mut stmt = conn.prepare_cached(sql)?;
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
}

/// Several statements as one unit, inside a savepoint: in autocommit mode the savepoint is
/// the transaction; inside a transaction it undoes only this batch on error.
fn run_batch(conn: &Connection, sql: &str) -> Result<Outcome, ShardError> {
    conn.execute_batch("SAVEPOINT litescale_batch")?;
    match conn.execute_batch(sql) {
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
    let columns = column_meta(stmt);
    let width = columns.len();
    let mut rows = Vec::new();
    let mut held = 0usize;
    let mut cursor = stmt.query(params_from_iter(params))?;
    while let Some(row) = cursor.next()? {
        let values = row_values(row, width)?;
        held += values.iter().map(Value::held_bytes).sum::<usize>();
        if held > max_result_bytes {
            return Err(result_too_large(max_result_bytes));
        }
        rows.push(values);
    }
    Ok(Outcome::Rows(Rows { columns, rows }))
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

fn describe(conn: &Connection, sql: &str) -> Result<Vec<ColumnMeta>, ShardError> {
    let stmt = conn.prepare_cached(sql)?;
    Ok(column_meta(&stmt))
}

pub(crate) fn table_columns(
    conn: &Connection,
    tables: &[String],
) -> Result<Vec<(String, Vec<ColumnMeta>)>, ShardError> {
    let mut out = Vec::with_capacity(tables.len());
    let mut stmt = conn.prepare_cached("SELECT name, type FROM pragma_table_info(?1, 'main')")?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn read(sql: &str) -> Request {
        Request::Read {
            sql: sql.to_owned(),
            params: Vec::new(),
            budget: None,
        }
    }

    thread_local! {
        static LONG_CALLS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    }

    fn count_long() {
        LONG_CALLS.with(|n| n.set(n.get() + 1));
    }

    fn long_calls_during(job: impl FnOnce()) -> u32 {
        LONG_CALLS.with(|n| n.set(0));
        job();
        LONG_CALLS.with(|n| n.get())
    }

    #[test]
    fn a_short_read_run_again_and_again_on_its_cached_statement_is_never_taken_for_long() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'one')",
        )
        .unwrap();
        let interrupter = Interrupter::default();
        let point = read("SELECT v FROM t WHERE id = 1");
        let calls = long_calls_during(|| {
            for _ in 0..5_000 {
                let r =
                    serve_reader_noting_long(&mut c, &point, &interrupter, usize::MAX, count_long);
                assert!(matches!(r, Response::MaybeOutcome(Some(Outcome::Rows(_)))));
            }
        });
        assert_eq!(calls, 0);
    }

    #[test]
    fn a_long_read_is_noted_once_and_runs_to_its_end() {
        let mut c = Connection::open_in_memory().unwrap();
        let interrupter = Interrupter::default();
        let long = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000000) \
                    SELECT count(*) FROM n";
        let calls = long_calls_during(|| {
            match serve_reader_noting_long(
                &mut c,
                &read(long),
                &interrupter,
                usize::MAX,
                count_long,
            ) {
                Response::MaybeOutcome(Some(Outcome::Rows(r))) => {
                    assert_eq!(r.rows, vec![vec![Value::Integer(1_000_000)]]);
                }
                other => panic!("{other:?}"),
            }
        });
        assert_eq!(calls, 1);
        // The handler is gone afterwards.
        let calls = long_calls_during(|| {
            serve_reader(&c, &read(long), &interrupter, usize::MAX);
        });
        assert_eq!(calls, 0);
    }
}
