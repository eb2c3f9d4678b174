//! One partition: a SQLite file in WAL mode, its single writer and its pool of readers.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use litescale_config::StorageConfig;
use rusqlite::{Connection, OpenFlags, params_from_iter};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::error::ShardError;
use crate::interrupt::Interrupter;
use crate::redo::{Recording, Redo};
use crate::txlog::{COMMITS_TABLE, forget_commits_below, record_commit};
use crate::usage::Usage;
use crate::value::{ColumnMeta, Outcome, Rows, Value};
use std::time::Instant;

/// What every connection of a partition is set up with.
#[derive(Clone)]
pub(crate) struct ConnectionOptions {
    pub storage: StorageConfig,
    pub statement_cache: usize,
    /// The database's name, for the catalog's `current_database()` and pg_database.
    pub database: String,
    pub types: crate::catalog::TypeCatalog,
    /// The database's metering, shared by its partitions.
    pub usage: Arc<Usage>,
    /// The storage directory (every tenant's database is a directory in it).
    pub root: PathBuf,
}

pub struct Partition {
    path: PathBuf,
    options: ConnectionOptions,
    /// The only connection that writes. Holding its lock is holding the right to write.
    writer: Arc<AsyncMutex<Connection>>,
    /// Idle read-only connections; more are opened when all are busy.
    readers: Mutex<Vec<Connection>>,
}

impl Partition {
    pub(crate) fn open(path: &Path, options: ConnectionOptions) -> Result<Partition, ShardError> {
        let mut writer = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // WAL: readers never block the writer and see each commit as soon as it is made.
        let mode: String = writer.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(ShardError::new(
                "58030",
                format!("{} cannot use WAL mode (got {mode})", path.display()),
            ));
        }
        writer.pragma_update(None, "synchronous", options.storage.synchronous.as_pragma())?;
        writer.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {COMMITS_TABLE} (txid INTEGER PRIMARY KEY)"
        ))?;
        configure(&mut writer, &options)?;
        Ok(Partition {
            path: path.to_owned(),
            options,
            writer: Arc::new(AsyncMutex::new(writer)),
            readers: Mutex::new(Vec::new()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn take_reader(&self) -> Result<Connection, ShardError> {
        if let Some(c) = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return Ok(c);
        }
        let mut c = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&mut c, &self.options)?;
        Ok(c)
    }

    fn return_reader(&self, c: Connection) {
        let mut idle = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.options.storage.idle_readers {
            idle.push(c);
        }
    }

    /// Runs `job` on a reader connection, off the async reactor.
    async fn with_reader<R: Send + 'static>(
        self: &Arc<Self>,
        job: impl FnOnce(&Connection) -> Result<R, ShardError> + Send + 'static,
    ) -> Result<R, ShardError> {
        let this = Arc::clone(self);
        blocking(move || this.with_reader_now(job)).await
    }

    /// Streams a query's rows from a reader: the columns at once, then rows through a
    /// bounded channel, so a large result (COPY TO) is never held whole in memory. The
    /// query stops when the receiver is dropped.
    pub async fn read_stream(
        self: &Arc<Self>,
        sql: String,
        interrupter: Arc<Interrupter>,
    ) -> Result<RowStream, ShardError> {
        let (columns_tx, columns_rx) = tokio::sync::oneshot::channel();
        let (rows_tx, rows_rx) = tokio::sync::mpsc::channel(STREAM_BUFFER_ROWS);
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let conn = match this.take_reader() {
                Ok(c) => c,
                Err(e) => {
                    let _ = columns_tx.send(Err(e));
                    return;
                }
            };
            let started = Instant::now();
            let sent = stream_rows(&conn, &sql, &interrupter, columns_tx, &rows_tx);
            this.options.usage.add(started, sent, 0);
            this.return_reader(conn);
        });
        let columns = columns_rx
            .await
            .map_err(|_| ShardError::new("XX000", "reader task ended early"))??;
        Ok(RowStream {
            columns,
            rows: rows_rx,
        })
    }

    /// Runs `job` on a reader connection on the calling thread: for start-up checks,
    /// which run before any client is served.
    fn with_reader_now<R>(
        &self,
        job: impl FnOnce(&Connection) -> Result<R, ShardError>,
    ) -> Result<R, ShardError> {
        let conn = self.take_reader()?;
        let result = job(&conn);
        self.return_reader(conn);
        result
    }

    /// The schema as SQLite keeps it (type, name, SQL), to compare partitions.
    pub fn schema(&self) -> Result<Vec<(String, String, Option<String>)>, ShardError> {
        self.with_reader_now(|conn| {
            let mut stmt = conn.prepare(
                "SELECT type, name, sql FROM main.sqlite_schema \
                 WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// The columns of each named table that exists, read now (see `with_reader_now`).
    pub fn table_columns_now(
        &self,
        tables: &[String],
    ) -> Result<Vec<(String, Vec<ColumnMeta>)>, ShardError> {
        self.with_reader_now(|c| table_columns(c, tables))
    }

    /// Runs a statement on a reader. `Ok(None)` when the statement would write (SQLite
    /// says so, whatever the router thought): run it on the writer instead.
    pub async fn read(
        self: &Arc<Self>,
        sql: String,
        params: Vec<Value>,
        interrupter: Arc<Interrupter>,
    ) -> Result<Option<Outcome>, ShardError> {
        let usage = Arc::clone(&self.options.usage);
        self.with_reader(move |c| {
            let started = Instant::now();
            let result = run(c, &sql, &params, &interrupter, true);
            usage.record(started, result.as_ref().ok().and_then(Option::as_ref));
            result
        })
        .await
    }

    /// The result columns of a statement, without running it.
    pub async fn describe(self: &Arc<Self>, sql: String) -> Result<Vec<ColumnMeta>, ShardError> {
        self.with_reader(move |c| describe(c, &sql)).await
    }

    /// The columns of each named table that exists, for type inference.
    pub async fn table_columns(
        self: &Arc<Self>,
        tables: Vec<String>,
    ) -> Result<Vec<(String, Vec<ColumnMeta>)>, ShardError> {
        self.with_reader(move |c| table_columns(c, &tables)).await
    }

    /// Runs `job` on the writer at open, before anyone else can hold it.
    fn with_writer_now<R>(
        &self,
        job: impl FnOnce(&Connection) -> Result<R, ShardError>,
    ) -> Result<R, ShardError> {
        let writer = self
            .writer
            .try_lock()
            .map_err(|_| ShardError::new("55006", "the partition's writer is in use"))?;
        job(&writer)
    }

    /// Recovery of a decided cross-partition transaction: commits its part here, from
    /// its redo, unless this partition already did. Returns whether it replayed.
    pub(crate) fn finish_decided(
        &self,
        txid: u64,
        redo: impl FnOnce() -> Result<Redo, ShardError>,
    ) -> Result<bool, ShardError> {
        self.with_writer_now(|c| {
            let committed: bool = c.query_row(
                &format!("SELECT EXISTS (SELECT 1 FROM {COMMITS_TABLE} WHERE txid = ?1)"),
                [txid as i64],
                |r| r.get(0),
            )?;
            if committed {
                return Ok(false);
            }
            let redo = redo()?;
            c.execute_batch("BEGIN IMMEDIATE")?;
            let replayed = redo.apply(c).and_then(|()| {
                record_commit(c, txid)?;
                Ok(c.execute_batch("COMMIT")?)
            });
            if replayed.is_err() {
                let _ = c.execute_batch("ROLLBACK");
            }
            replayed.map(|()| true)
        })
    }

    /// Drops the commit records of transactions older than `txid` (see txlog.rs).
    pub(crate) fn forget_commits_below(&self, txid: u64) -> Result<(), ShardError> {
        self.with_writer_now(|c| forget_commits_below(c, txid))
    }

    /// The writer, if nobody holds it.
    pub fn try_lock_writer(self: &Arc<Self>) -> Option<WriterLock> {
        let guard = Arc::clone(&self.writer).try_lock_owned().ok()?;
        Some(WriterLock {
            conn: WriterConn(guard),
            usage: Arc::clone(&self.options.usage),
        })
    }

    /// Waits for the writer: whoever holds the lock is the only one who may write.
    pub async fn lock_writer(self: &Arc<Self>) -> WriterLock {
        WriterLock {
            conn: WriterConn(Arc::clone(&self.writer).lock_owned().await),
            usage: Arc::clone(&self.options.usage),
        }
    }
}

/// The partition's writer, held and not yet used. Waiting for it can be abandoned
/// safely; once a statement runs on it, it runs to the end.
pub struct WriterLock {
    conn: WriterConn,
    usage: Arc<Usage>,
}

impl WriterLock {
    /// Runs one statement in autocommit mode: it is durable when this returns.
    pub async fn write(
        self,
        sql: String,
        params: Vec<Value>,
        interrupter: Arc<Interrupter>,
    ) -> Result<Outcome, ShardError> {
        let WriterLock { conn, usage } = self;
        blocking(move || {
            let started = Instant::now();
            let result = run(&conn.0, &sql, &params, &interrupter, false)
                .map(|o| o.unwrap_or(Outcome::Changed(0)));
            usage.record(started, result.as_ref().ok());
            result
        })
        .await
    }

    /// Runs several statements (no parameters, no rows) as one atomic unit.
    pub async fn write_batch(self, sql: String) -> Result<Outcome, ShardError> {
        let WriterLock { conn, usage } = self;
        blocking(move || {
            let started = Instant::now();
            let result = run_batch(&conn.0, &sql);
            usage.record(started, None);
            result
        })
        .await
    }

    /// Opens a transaction that keeps the writer until it commits or rolls back.
    pub async fn begin(self) -> Result<Transaction, ShardError> {
        self.begin_as(false).await
    }

    /// Opens a transaction that records what it does, so that it can later be one part
    /// of a cross-partition transaction (see [`Transaction::prepare`]).
    pub async fn begin_recorded(self) -> Result<Transaction, ShardError> {
        self.begin_as(true).await
    }

    async fn begin_as(self, recorded: bool) -> Result<Transaction, ShardError> {
        let WriterLock { conn, usage } = self;
        let held = blocking(move || {
            conn.0.execute_batch("BEGIN IMMEDIATE")?;
            let recording = if recorded {
                Some(Recording::start(&conn.0)?)
            } else {
                None
            };
            Ok(Held {
                recording,
                conn,
                usage,
            })
        })
        .await?;
        Ok(Transaction { held: Some(held) })
    }
}

impl Drop for Partition {
    /// Readers close first, so that the writer is the file's last connection: SQLite
    /// checkpoints the WAL into the database file when its last connection closes, which a
    /// read-only connection cannot do.
    fn drop(&mut self) {
        self.readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// Rows in flight between a reader thread and the client, per streamed query.
const STREAM_BUFFER_ROWS: usize = 1024;

/// A query's result, arriving row by row.
#[derive(Debug)]
pub struct RowStream {
    pub columns: Vec<ColumnMeta>,
    pub rows: tokio::sync::mpsc::Receiver<Result<Vec<Value>, ShardError>>,
}

type ColumnsSender = tokio::sync::oneshot::Sender<Result<Vec<ColumnMeta>, ShardError>>;

/// Sends a query's columns, then its rows, through the channels; returns the rows sent.
fn stream_rows(
    conn: &Connection,
    sql: &str,
    interrupter: &Interrupter,
    columns_tx: ColumnsSender,
    rows_tx: &tokio::sync::mpsc::Sender<Result<Vec<Value>, ShardError>>,
) -> u64 {
    let mut stmt = match conn.prepare_cached(sql) {
        Ok(s) => s,
        Err(e) => {
            let _ = columns_tx.send(Err(e.into()));
            return 0;
        }
    };
    if !stmt.readonly() {
        let _ = columns_tx.send(Err(ShardError::new(
            "25006",
            "a streamed query must only read",
        )));
        return 0;
    }
    let columns = column_meta(&stmt);
    let width = columns.len();
    if columns_tx.send(Ok(columns)).is_err() {
        return 0;
    }
    interrupter.arm(conn.get_interrupt_handle());
    let mut cursor = match stmt.query([]) {
        Ok(c) => c,
        Err(e) => {
            let _ = rows_tx.blocking_send(Err(e.into()));
            interrupter.disarm();
            return 0;
        }
    };
    let mut sent = 0;
    loop {
        let item = match cursor.next() {
            Ok(Some(row)) => (0..width)
                .map(|i| row.get_ref(i).map(Value::from))
                .collect::<Result<Vec<_>, _>>()
                .map_err(ShardError::from),
            Ok(None) => break,
            Err(e) => Err(e.into()),
        };
        let failed = item.is_err();
        if rows_tx.blocking_send(item).is_err() || failed {
            break;
        }
        sent += 1;
    }
    interrupter.disarm();
    sent
}

/// The writer, held. If dropped with a transaction still open (client gone, task
/// cancelled) the transaction is rolled back before the next writer gets the connection.
struct WriterConn(OwnedMutexGuard<Connection>);

impl Drop for WriterConn {
    fn drop(&mut self) {
        if !self.0.is_autocommit()
            && let Err(e) = self.0.execute_batch("ROLLBACK")
        {
            tracing::error!(error = %e, "rollback of an abandoned transaction failed");
        }
    }
}

/// An open write transaction: it holds the partition's writer until commit or rollback.
pub struct Transaction {
    // `None` only while the connection is lent to a blocking task.
    held: Option<Held>,
}

/// The writer and, for a transaction that may span partitions, the recording of its
/// changes. Fields drop in order: the recording must end before the writer goes to
/// someone else, or it would record their changes too.
struct Held {
    recording: Option<Recording>,
    conn: WriterConn,
    usage: Arc<Usage>,
}

impl Transaction {
    async fn with_held<R: Send + 'static>(
        &mut self,
        job: impl FnOnce(&mut Held) -> Result<R, ShardError> + Send + 'static,
    ) -> Result<R, ShardError> {
        let mut held = self
            .held
            .take()
            .ok_or_else(|| ShardError::new("XX000", "transaction connection lost"))?;
        let (held, result) = blocking(move || {
            let r = job(&mut held);
            Ok((held, r))
        })
        .await?;
        self.held = Some(held);
        result
    }

    async fn with_conn<R: Send + 'static>(
        &mut self,
        job: impl FnOnce(&Connection) -> Result<R, ShardError> + Send + 'static,
    ) -> Result<R, ShardError> {
        self.with_held(move |h| job(&h.conn.0)).await
    }

    /// Runs a schema change (DDL). A recorded transaction records its SQL, since the
    /// session extension sees row changes only.
    pub async fn execute_schema_change(&mut self, sql: String) -> Result<Outcome, ShardError> {
        self.with_held(move |h| {
            if let Some(recording) = &mut h.recording {
                recording.schema_change(&h.conn.0, &sql)?;
            }
            let started = Instant::now();
            let result = run_batch(&h.conn.0, &sql);
            h.usage.record(started, None);
            result
        })
        .await
    }

    /// Step 1 of a cross-partition commit: what this part did, to be made durable before
    /// the decision. The transaction stays open, holding the writer.
    pub async fn prepare(&mut self) -> Result<Redo, ShardError> {
        self.with_held(|h| {
            let recording = h.recording.as_mut().ok_or_else(|| {
                ShardError::new("XX000", "this transaction did not record its changes")
            })?;
            recording.redo(&h.conn.0)
        })
        .await
    }

    /// Step 3: commits this part of the decided transaction `txid`, with the record that
    /// it did so; drops the records of transactions older than `forget_below`.
    pub async fn commit_decided(mut self, txid: u64, forget_below: u64) -> Result<(), ShardError> {
        self.with_held(move |h| {
            h.recording = None;
            let c = &h.conn.0;
            record_commit(c, txid)?;
            forget_commits_below(c, forget_below)?;
            Ok(c.execute_batch("COMMIT")?)
        })
        .await
    }

    pub async fn execute(
        &mut self,
        sql: String,
        params: Vec<Value>,
        interrupter: Arc<Interrupter>,
    ) -> Result<Outcome, ShardError> {
        self.with_held(move |h| {
            let started = Instant::now();
            let result = run(&h.conn.0, &sql, &params, &interrupter, false)
                .map(|o| o.unwrap_or(Outcome::Changed(0)));
            h.usage.record(started, result.as_ref().ok());
            result
        })
        .await
    }

    pub async fn execute_batch(&mut self, sql: String) -> Result<Outcome, ShardError> {
        self.with_held(move |h| {
            let started = Instant::now();
            let result = run_batch(&h.conn.0, &sql);
            h.usage.record(started, None);
            result
        })
        .await
    }

    /// Runs one prepared INSERT for each row (COPY FROM); returns the rows inserted.
    pub async fn insert_rows(
        &mut self,
        sql: String,
        rows: Vec<Vec<Value>>,
    ) -> Result<u64, ShardError> {
        self.with_held(move |h| {
            let started = Instant::now();
            let mut stmt = h.conn.0.prepare_cached(&sql)?;
            for row in &rows {
                stmt.execute(params_from_iter(row))?;
            }
            h.usage.add(started, 0, rows.len() as u64);
            Ok(rows.len() as u64)
        })
        .await
    }

    pub async fn describe(&mut self, sql: String) -> Result<Vec<ColumnMeta>, ShardError> {
        self.with_conn(move |c| describe(c, &sql)).await
    }

    pub async fn table_columns(
        &mut self,
        tables: Vec<String>,
    ) -> Result<Vec<(String, Vec<ColumnMeta>)>, ShardError> {
        self.with_conn(move |c| table_columns(c, &tables)).await
    }

    /// Makes the transaction durable. On error it is rolled back (when `self` drops).
    pub async fn commit(mut self) -> Result<(), ShardError> {
        self.with_conn(|c| {
            if c.is_autocommit() {
                // SQLite already rolled it back (an interrupted write does that).
                return Err(ShardError::new(
                    "40000",
                    "the transaction was rolled back by the storage engine",
                ));
            }
            Ok(c.execute_batch("COMMIT")?)
        })
        .await
    }

    pub async fn rollback(mut self) -> Result<(), ShardError> {
        self.with_conn(|c| {
            if !c.is_autocommit() {
                c.execute_batch("ROLLBACK")?;
            }
            Ok(())
        })
        .await
    }
}

/// Sets a connection up as every litescale connection is; the guard comes last, after
/// litescale's own PRAGMAs and catalog views.
fn configure(c: &mut Connection, options: &ConnectionOptions) -> Result<(), ShardError> {
    c.busy_timeout(std::time::Duration::from_millis(
        options.storage.busy_timeout_ms,
    ))?;
    // Postgres always enforces foreign keys; SQLite only when asked.
    c.pragma_update(None, "foreign_keys", "ON")?;
    // Postgres' LIKE is case-sensitive; SQLite's is not unless asked.
    c.pragma_update(None, "case_sensitive_like", "ON")?;
    crate::functions::register(c)?;
    crate::arrays::register(c)?;
    crate::catalog::register(c, &options.database, &options.root, &options.types)?;
    c.set_prepared_statement_cache_capacity(options.statement_cache);
    crate::guard::install(c)
}

async fn blocking<R: Send + 'static>(
    job: impl FnOnce() -> Result<R, ShardError> + Send + 'static,
) -> Result<R, ShardError> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| ShardError::new("XX000", format!("worker task failed: {e}")))?
}

fn run(
    conn: &Connection,
    sql: &str,
    params: &[Value],
    interrupter: &Interrupter,
    read_only: bool,
) -> Result<Option<Outcome>, ShardError> {
    let mut stmt = conn.prepare_cached(sql)?;
    if read_only && !stmt.readonly() {
        return Ok(None);
    }
    // The proxy checks the parameter count at Bind. One partition's share of a split
    // INSERT uses only some of the parameters: the highest it names bounds the list.
    let params = &params[..params.len().min(stmt.parameter_count())];
    interrupter.arm(conn.get_interrupt_handle());
    let result = execute(&mut stmt, conn, params);
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
) -> Result<Outcome, ShardError> {
    if stmt.column_count() == 0 {
        stmt.execute(params_from_iter(params))?;
        return Ok(Outcome::Changed(conn.changes()));
    }
    let columns = column_meta(stmt);
    let width = columns.len();
    let mut rows = Vec::new();
    let mut cursor = stmt.query(params_from_iter(params))?;
    while let Some(row) = cursor.next()? {
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            values.push(Value::from(row.get_ref(i)?));
        }
        rows.push(values);
    }
    Ok(Outcome::Rows(Rows { columns, rows }))
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

fn table_columns(
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
