//! One partition: a SQLite file in WAL mode, its single writer (the primary) and its
//! readers, served in this process or by worker processes. Either way each call is a
//! [`Request`] answered by the same engine code, so the proxy sees one API.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use litescale_config::{StorageConfig, Synchronous};
use rusqlite::Connection;
use tokio::runtime::RuntimeFlavor;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::durability::{WalSync, group_commit};
use crate::engine::{self, ELECTION_WAIT, Writer, timed};
use crate::error::ShardError;
use crate::interrupt::Interrupter;
use crate::protocol::{Reply, Request, Response};
use crate::redo::Redo;
use crate::remote::RemoteWriter;
use crate::supervisor::WorkerGroup;
use crate::usage::Usage;
use crate::value::{ColumnMeta, Outcome, Value};

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
    /// Bytes one statement's materialised result may hold (`limits.max_result_mb`).
    pub max_result_bytes: usize,
}

/// What [`Partition::read_if_small`] found.
pub enum SmallRead {
    /// The whole result (`None`: the statement writes, and belongs on the writer).
    Done(Option<Outcome>),
    /// More than the budget: stream it.
    TooLarge,
}

pub struct Partition {
    path: PathBuf,
    usage: Arc<Usage>,
    backend: Backend,
    /// Autocommit writes waiting for the writer (group commit, see `write_grouped`).
    pending: Mutex<Vec<PendingWrite>>,
    /// Group commit of the WAL's fsyncs (`storage.synchronous = "full"`).
    wal: Option<WalSync>,
    next_pending: std::sync::atomic::AtomicU64,
    /// Counts requests that may have committed, each counted by its writer before the
    /// writer is let go: a snapshot that saw the count unchanged, checked by the next
    /// holder of the writer, is still the latest data (see [`ReadSnapshot::is_current`]).
    commits: std::sync::atomic::AtomicU64,
}

/// An autocommit write waiting to run in the next group.
struct PendingWrite {
    id: u64,
    sql: String,
    params: Vec<Value>,
    interrupter: Arc<Interrupter>,
    done: tokio::sync::oneshot::Sender<Result<Outcome, ShardError>>,
}

enum Backend {
    /// The embedded default: the primary and its readers are connections in this process.
    Local(Local),
    /// Worker processes, reached over TCP.
    Remote(Arc<WorkerGroup>),
}

struct Local {
    options: ConnectionOptions,
    /// The only connection that writes. Holding its lock is holding the right to write.
    writer: Arc<AsyncMutex<Writer>>,
    /// Idle read-only connections; more are opened when all are busy.
    readers: Mutex<Vec<Connection>>,
}

impl Partition {
    /// Opens the partition in this process, as its primary.
    pub(crate) fn open(path: &Path, options: ConnectionOptions) -> Result<Partition, ShardError> {
        let writer = Writer::open(path, &options, ELECTION_WAIT, false)?;
        let usage = Arc::clone(&options.usage);
        let synchronous = options.storage.synchronous;
        let local = Local {
            options,
            writer: Arc::new(AsyncMutex::new(writer)),
            readers: Mutex::new(Vec::new()),
        };
        Ok(Partition::new(
            path,
            usage,
            synchronous,
            Backend::Local(local),
        ))
    }

    /// A partition served by worker processes.
    pub(crate) fn remote(
        path: &Path,
        usage: Arc<Usage>,
        group: Arc<WorkerGroup>,
        synchronous: Synchronous,
    ) -> Partition {
        // The workers share this host's page cache: an fsync here covers their commits.
        Partition::new(path, usage, synchronous, Backend::Remote(group))
    }

    fn new(path: &Path, usage: Arc<Usage>, synchronous: Synchronous, backend: Backend) -> Self {
        Partition {
            path: path.to_owned(),
            usage,
            wal: group_commit(synchronous).then(|| WalSync::new(path)),
            pending: Mutex::default(),
            next_pending: Default::default(),
            commits: Default::default(),
            backend,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What one materialised result may hold here; worker processes hold theirs to their
    /// own configuration.
    fn max_result_bytes(&self) -> usize {
        match &self.backend {
            Backend::Local(local) => local.options.max_result_bytes,
            Backend::Remote(_) => usize::MAX,
        }
    }

    /// The worker processes serving this partition, if it has any.
    pub fn workers(&self) -> Option<&Arc<WorkerGroup>> {
        match &self.backend {
            Backend::Local(_) => None,
            Backend::Remote(group) => Some(group),
        }
    }

    fn local(&self) -> Result<&Local, ShardError> {
        match &self.backend {
            Backend::Local(local) => Ok(local),
            Backend::Remote(_) => Err(ShardError::new(
                "XX000",
                "start-up checks run on a partition opened in process",
            )),
        }
    }

    fn record(&self, metered: bool, reply: &Reply) {
        if metered {
            self.usage.record(reply.busy_nanos, &reply.body);
        }
    }

    /// Sends a request to a reader and returns its answer.
    async fn call_reader(
        self: &Arc<Self>,
        request: Request,
        interrupter: Arc<Interrupter>,
    ) -> Result<Response, ShardError> {
        let metered = request.is_statement();
        let reply = match &self.backend {
            Backend::Local(local) => {
                let max_result_bytes = local.options.max_result_bytes;
                let this = Arc::clone(self);
                sqlite_work(move || {
                    this.with_reader_now(|c| {
                        let (body, busy_nanos) = timed(|| {
                            engine::serve_reader_noting_long(
                                c,
                                &request,
                                &interrupter,
                                max_result_bytes,
                                hand_over_thread,
                            )
                        });
                        Ok(Reply { busy_nanos, body })
                    })
                })
                .await?
            }
            Backend::Remote(group) => group.read(request, &interrupter).await?,
        };
        self.record(metered, &reply);
        Ok(reply.body)
    }

    /// Streams a query's rows from a reader: the columns at once, then rows through a
    /// bounded channel, so a large result (a SELECT, COPY TO) is never held whole in
    /// memory. The query stops when the receiver is dropped.
    pub async fn read_stream(
        self: &Arc<Self>,
        sql: String,
        params: Vec<Value>,
        interrupter: Arc<Interrupter>,
    ) -> Result<RowStream, ShardError> {
        let (columns_tx, columns_rx) = tokio::sync::oneshot::channel();
        let (rows_tx, rows_rx) = tokio::sync::mpsc::channel(STREAM_BUFFER_ROWS);
        let mut forward = StreamForward {
            columns: Some(columns_tx),
            rows: rows_tx,
        };
        match &self.backend {
            Backend::Local(_) => {
                let this = Arc::clone(self);
                tokio::task::spawn_blocking(move || {
                    let result = this.with_reader_now(|c| {
                        let (sent, nanos) = timed(|| {
                            engine::stream(c, &sql, &params, &interrupter, |r| {
                                forward.blocking_send(r)
                            })
                        });
                        this.usage.add(nanos, sent, 0);
                        Ok(())
                    });
                    if let Err(e) = result {
                        forward.blocking_send(Response::Error(e));
                    }
                });
            }
            Backend::Remote(group) => {
                let usage = Arc::clone(&self.usage);
                group
                    .stream(sql, params, interrupter, forward, usage)
                    .await?;
            }
        }
        let columns = columns_rx
            .await
            .map_err(|_| ShardError::new("XX000", "reader task ended early"))??;
        Ok(RowStream {
            columns,
            rows: rows_rx,
        })
    }

    /// Runs `job` on a reader connection on the calling thread (a blocking one, or start-up
    /// before any client is served).
    pub(crate) fn with_reader_now<R>(
        &self,
        job: impl FnOnce(&mut Connection) -> Result<R, ShardError>,
    ) -> Result<R, ShardError> {
        let local = self.local()?;
        let mut conn = match local
            .readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
        {
            Some(c) => c,
            None => engine::open_reader(&self.path, &local.options)?,
        };
        let result = job(&mut conn);
        let mut idle = local.readers.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < local.options.storage.idle_readers {
            idle.push(conn);
        }
        result
    }

    /// A read transaction held on one reader of this process (see [`ReadSnapshot`]);
    /// `None` with worker processes, whose reader links serve one request at a time and
    /// keep no transaction between them.
    pub fn snapshot(self: &Arc<Self>) -> Result<Option<ReadSnapshot>, ShardError> {
        let Backend::Local(local) = &self.backend else {
            return Ok(None);
        };
        let idle = local
            .readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop();
        let conn = match idle {
            Some(c) => c,
            None => engine::open_reader(&self.path, &local.options)?,
        };
        // Counted before the snapshot exists: a commit in between makes it look older
        // than it is, never newer.
        let commits_before = self.commits.load(std::sync::atomic::Ordering::Acquire);
        // Deferred: SQLite takes the snapshot at the first read, as Postgres takes a
        // REPEATABLE READ transaction's at its first statement.
        conn.execute_batch("BEGIN")?;
        Ok(Some(ReadSnapshot {
            conn: Some(conn),
            partition: Arc::clone(self),
            commits_before,
        }))
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
        self.with_reader_now(|c| engine::table_columns(c, tables))
    }

    /// Runs a statement on a reader. `Ok(None)` when the statement would write (SQLite
    /// says so, whatever the router thought): run it on the writer instead.
    pub async fn read(
        self: &Arc<Self>,
        sql: String,
        params: Vec<Value>,
        interrupter: Arc<Interrupter>,
    ) -> Result<Option<Outcome>, ShardError> {
        match self
            .call_reader(
                Request::Read {
                    sql,
                    params,
                    budget: None,
                },
                interrupter,
            )
            .await?
        {
            Response::MaybeOutcome(outcome) => Ok(outcome),
            other => Err(other.unexpected()),
        }
    }

    /// A read run whole (in process, on the caller's thread as every in-process read is;
    /// with workers, as one answer, which a lost worker's retry can repeat) when its
    /// result holds at most `budget` bytes; [`SmallRead::TooLarge`] when it would hold
    /// more, for the caller to stream it instead. A point select thus costs no hand-off
    /// to another thread; a large result is never held whole.
    pub async fn read_if_small(
        self: &Arc<Self>,
        sql: String,
        params: Vec<Value>,
        interrupter: Arc<Interrupter>,
        budget: usize,
    ) -> Result<SmallRead, ShardError> {
        let request = Request::Read {
            sql,
            params,
            budget: u64::try_from(budget).ok(),
        };
        match self.call_reader(request, interrupter).await {
            Ok(Response::MaybeOutcome(outcome)) => Ok(SmallRead::Done(outcome)),
            Ok(Response::Error(e)) if e.sqlstate == engine::RESULT_TOO_LARGE => {
                Ok(SmallRead::TooLarge)
            }
            Ok(other) => Err(other.unexpected()),
            Err(e) => Err(e),
        }
    }

    /// The result columns of a statement, without running it.
    pub async fn describe(self: &Arc<Self>, sql: String) -> Result<Vec<ColumnMeta>, ShardError> {
        columns(
            self.call_reader(Request::Describe { sql }, Arc::default())
                .await?,
        )
    }

    /// The columns of each named table that exists, for type inference.
    pub async fn table_columns(
        self: &Arc<Self>,
        tables: Vec<String>,
    ) -> Result<Vec<(String, Vec<ColumnMeta>)>, ShardError> {
        tables_of(
            self.call_reader(Request::TableColumns { tables }, Arc::default())
                .await?,
        )
    }

    /// Runs `job` on the writer at open, before anyone else can hold it.
    fn with_writer_now<R>(
        &self,
        job: impl FnOnce(&Writer) -> Result<R, ShardError>,
    ) -> Result<R, ShardError> {
        let writer = self
            .local()?
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
        let replayed = self.with_writer_now(|w| w.finish_decided(txid, redo))?;
        if replayed && let Some(wal) = &self.wal {
            // Durable before the log that could replay it again is forgotten.
            wal.committed();
            wal.sync_now()?;
        }
        Ok(replayed)
    }

    /// Waits until commit `seq` (from [`Held::call`]) is on disk.
    async fn durable(&self, seq: Option<u64>) -> Result<(), ShardError> {
        match (&self.wal, seq) {
            (Some(wal), Some(seq)) => wal.wait(seq).await,
            _ => Ok(()),
        }
    }

    /// Drops the commit records of transactions older than `txid` (see txlog.rs).
    pub(crate) fn forget_commits_below(&self, txid: u64) -> Result<(), ShardError> {
        self.with_writer_now(|w| w.forget_commits_below(txid))
    }

    /// The writer, if nobody holds it.
    pub fn try_lock_writer(self: &Arc<Self>) -> Option<WriterLock> {
        let slot = match &self.backend {
            Backend::Local(l) => Slot::Local(Arc::clone(&l.writer).try_lock_owned().ok()?),
            Backend::Remote(g) => Slot::Remote(g.writer().try_lock_owned().ok()?),
        };
        Some(self.writer_lock(slot))
    }

    /// Waits for the writer: whoever holds the lock is the only one who may write.
    pub async fn lock_writer(self: &Arc<Self>) -> WriterLock {
        let slot = match &self.backend {
            Backend::Local(l) => Slot::Local(Arc::clone(&l.writer).lock_owned().await),
            Backend::Remote(g) => Slot::Remote(g.writer().lock_owned().await),
        };
        self.writer_lock(slot)
    }

    /// One statement in autocommit mode, durable when this returns — committed together
    /// with the other sessions' autocommit writes that queued meanwhile (group commit):
    /// whoever gets the writer runs every queued write in one SQLite transaction, each in
    /// a savepoint of its own (so one's failure undoes only itself), and one fsync makes
    /// them all durable. A cancel (`cancel` resolves, `interrupter` is fired) ends the
    /// wait, or the write itself when it runs in a group of its own, as a long write does;
    /// a write that runs with others runs to its end, since SQLite would undo the whole
    /// group.
    pub async fn write_grouped(
        self: &Arc<Self>,
        sql: String,
        params: Vec<Value>,
        interrupter: Arc<Interrupter>,
        cancel: impl std::future::Future<Output = ()>,
    ) -> Result<Outcome, ShardError> {
        let (done, mut result) = tokio::sync::oneshot::channel();
        let id = self
            .next_pending
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.queue().push(PendingWrite {
            id,
            sql,
            params,
            interrupter,
            done,
        });
        tokio::pin!(cancel);
        let mut cancel_seen = false;
        loop {
            tokio::select! {
                biased;
                outcome = &mut result => {
                    return outcome.map_err(|_| ShardError::new("XX000", "a group commit ended early"))?;
                }
                writer = self.lock_writer() => {
                    let group = std::mem::take(&mut *self.queue());
                    if !group.is_empty() {
                        // In a task of its own: the group must finish (and answer every
                        // session in it) even if this session goes away.
                        tokio::spawn(writer.write_group(group));
                    }
                }
                () = &mut cancel, if !cancel_seen => {
                    cancel_seen = true;
                    let mut queue = self.queue();
                    if let Some(i) = queue.iter().position(|p| p.id == id) {
                        queue.remove(i);
                        return Err(ShardError::new("57014", "canceling statement due to user request"));
                    }
                }
            }
        }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Vec<PendingWrite>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn writer_lock(self: &Arc<Self>, slot: Slot) -> WriterLock {
        WriterLock {
            held: Held {
                slot: Some(slot),
                partition: Arc::clone(self),
                commit: None,
            },
        }
    }
}

impl Drop for Partition {
    /// Readers close first, so that the writer is the file's last connection: SQLite
    /// checkpoints the WAL into the database file when its last connection closes, which a
    /// read-only connection cannot do.
    fn drop(&mut self) {
        if let Backend::Local(local) = &self.backend {
            local
                .readers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
        }
    }
}

fn columns(response: Response) -> Result<Vec<ColumnMeta>, ShardError> {
    match response {
        Response::Columns(c) => Ok(c),
        other => Err(other.unexpected()),
    }
}

fn tables_of(response: Response) -> Result<Vec<(String, Vec<ColumnMeta>)>, ShardError> {
    match response {
        Response::Tables(t) => Ok(t),
        other => Err(other.unexpected()),
    }
}

fn outcome(response: Response) -> Result<Outcome, ShardError> {
    match response {
        Response::Outcome(o) => Ok(o),
        other => Err(other.unexpected()),
    }
}

fn done(response: Response) -> Result<(), ShardError> {
    match response {
        Response::Done => Ok(()),
        other => Err(other.unexpected()),
    }
}

/// Rows in flight between a reader and the client, per streamed query.
const STREAM_BUFFER_ROWS: usize = 1024;

/// A query's result, arriving row by row.
#[derive(Debug)]
pub struct RowStream {
    pub columns: Vec<ColumnMeta>,
    pub rows: tokio::sync::mpsc::Receiver<Result<Vec<Value>, ShardError>>,
}

/// Turns a stream's responses (columns, row batches, end) into a [`RowStream`]'s channels.
pub(crate) struct StreamForward {
    columns: Option<tokio::sync::oneshot::Sender<Result<Vec<ColumnMeta>, ShardError>>>,
    rows: tokio::sync::mpsc::Sender<Result<Vec<Value>, ShardError>>,
}

impl StreamForward {
    fn blocking_send(&mut self, response: Response) -> bool {
        match self.route(response) {
            Routed::Columns(ok) => ok,
            Routed::Rows(rows) => rows
                .into_iter()
                .all(|row| self.rows.blocking_send(row).is_ok()),
            Routed::Stop => false,
        }
    }

    /// Passes one response on; false when the receiver is gone or the stream ended.
    pub(crate) async fn send(&mut self, response: Response) -> bool {
        match self.route(response) {
            Routed::Columns(ok) => ok,
            Routed::Rows(rows) => {
                for row in rows {
                    if self.rows.send(row).await.is_err() {
                        return false;
                    }
                }
                true
            }
            Routed::Stop => false,
        }
    }

    fn route(&mut self, response: Response) -> Routed {
        match response {
            Response::Columns(c) => match self.columns.take() {
                Some(tx) => Routed::Columns(tx.send(Ok(c)).is_ok()),
                None => Routed::Stop,
            },
            Response::Rows(rows) => Routed::Rows(rows.into_iter().map(Ok).collect()),
            Response::End => Routed::Stop,
            Response::Error(e) => match self.columns.take() {
                Some(tx) => {
                    let _ = tx.send(Err(e));
                    Routed::Stop
                }
                None => Routed::Rows(vec![Err(e)]),
            },
            other => Routed::Rows(vec![Err(other.unexpected())]),
        }
    }
}

enum Routed {
    Columns(bool),
    Rows(Vec<Result<Vec<Value>, ShardError>>),
    Stop,
}

/// A read transaction on one reader connection: every read in it sees the database as of
/// its first, which a READ ONLY block at REPEATABLE READ or SERIALIZABLE needs, without
/// the writer. Dropping it ends the transaction and gives the connection back.
pub struct ReadSnapshot {
    // `None` only while the connection is lent to a read.
    conn: Option<Connection>,
    partition: Arc<Partition>,
    /// The partition's commit count when the snapshot was taken.
    commits_before: u64,
}

impl ReadSnapshot {
    /// Whether nothing has committed since the snapshot was taken, so that the writer
    /// sees exactly what it saw. Meaningful only to the holder of the partition's
    /// writer: every earlier holder has counted its commits by then.
    pub fn is_current(&self, _held: &WriterLock) -> bool {
        self.partition
            .commits
            .load(std::sync::atomic::Ordering::Acquire)
            == self.commits_before
    }

    /// Runs a statement in the snapshot. `Ok(None)` when SQLite finds it writes.
    pub async fn read(
        &mut self,
        sql: String,
        params: Vec<Value>,
        interrupter: Arc<Interrupter>,
    ) -> Result<Option<Outcome>, ShardError> {
        let mut conn = self
            .conn
            .take()
            .ok_or_else(|| ShardError::new("XX000", "snapshot connection lost"))?;
        let request = Request::Read {
            sql,
            params,
            budget: None,
        };
        let max_result_bytes = self.partition.max_result_bytes();
        let (conn, reply) = sqlite_work(move || {
            let (body, busy_nanos) = timed(|| {
                engine::serve_reader_noting_long(
                    &mut conn,
                    &request,
                    &interrupter,
                    max_result_bytes,
                    hand_over_thread,
                )
            });
            Ok((conn, Reply { busy_nanos, body }))
        })
        .await?;
        self.conn = Some(conn);
        self.partition.record(true, &reply);
        match reply.body {
            Response::MaybeOutcome(outcome) => Ok(outcome),
            other => Err(other.unexpected()),
        }
    }
}

impl Drop for ReadSnapshot {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        let Ok(local) = self.partition.local() else {
            return;
        };
        // A connection whose transaction cannot be ended is not reused.
        if conn.execute_batch("ROLLBACK").is_ok() {
            let mut idle = local.readers.lock().unwrap_or_else(|e| e.into_inner());
            if idle.len() < local.options.storage.idle_readers {
                idle.push(conn);
            }
        }
    }
}

/// The writer's connection, held: in this process, or a link to the primary worker.
enum Slot {
    Local(OwnedMutexGuard<Writer>),
    Remote(OwnedMutexGuard<RemoteWriter>),
}

/// The writer, held, with the partition it belongs to. If dropped with a transaction
/// still open (client gone, task cancelled) the transaction is rolled back before the next
/// writer gets the connection.
struct Held {
    // `None` only while the connection is lent to a blocking task.
    slot: Option<Slot>,
    partition: Arc<Partition>,
    /// The last commit made on the writer, to wait for its fsync once the writer is let go.
    commit: Option<u64>,
}

impl Drop for Held {
    fn drop(&mut self) {
        match &mut self.slot {
            Some(Slot::Local(writer)) => writer.abandon(),
            // The link cannot roll back from here (no await in drop): the next holder does.
            Some(Slot::Remote(_)) | None => {}
        }
    }
}

impl Held {
    /// Lets the writer go, then waits for the fsync of the commit made on it (group
    /// commit: the next transaction writes meanwhile).
    async fn release_durably(mut self) -> Result<(), ShardError> {
        let commit = self.commit.take();
        let partition = Arc::clone(&self.partition);
        drop(self);
        partition.durable(commit).await
    }

    async fn call(
        &mut self,
        request: Request,
        interrupter: Arc<Interrupter>,
    ) -> Result<Response, ShardError> {
        let metered = request.is_statement();
        let commits = request.commits();
        let slot = self
            .slot
            .take()
            .ok_or_else(|| ShardError::new("XX000", "transaction connection lost"))?;
        let (slot, reply) = match slot {
            Slot::Local(mut writer) => {
                sqlite_work(move || {
                    let (body, busy_nanos) =
                        timed(|| writer.serve_noting_long(request, &interrupter, hand_over_thread));
                    Ok((Slot::Local(writer), Reply { busy_nanos, body }))
                })
                .await?
            }
            Slot::Remote(mut link) => {
                let reply = link.call(request, &interrupter).await;
                (Slot::Remote(link), reply?)
            }
        };
        self.slot = Some(slot);
        if commits {
            // Counted whatever the answer: a commit that failed may still have happened.
            self.partition
                .commits
                .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        }
        self.partition.record(metered, &reply);
        if commits
            && !matches!(reply.body, Response::Error(_))
            && let Some(wal) = &self.partition.wal
        {
            self.commit = Some(wal.committed());
        }
        Ok(reply.body)
    }
}

/// The partition's writer, held and not yet used. Waiting for it can be abandoned
/// safely; once a statement runs on it, it runs to the end.
pub struct WriterLock {
    held: Held,
}

impl WriterLock {
    /// Runs a group of autocommit writes in one transaction and answers each.
    async fn write_group(mut self, group: Vec<PendingWrite>) {
        let interrupter = match group.as_slice() {
            [alone] => Arc::clone(&alone.interrupter),
            _ => Arc::default(),
        };
        let (writes, answers): (Vec<_>, Vec<_>) = group
            .into_iter()
            .map(|p| ((p.sql, p.params), p.done))
            .unzip();
        let count = answers.len();
        let result = self
            .held
            .call(Request::WriteGroup { writes }, interrupter)
            .await;
        // The fsync runs with the writer still held: the writes that queue meanwhile make
        // the next group bigger, which for single statements gains more than letting the
        // writer go early (measured: about twice the TPS of a keyed update+select script).
        let commit = self.held.commit.take();
        let result = match self.held.partition.durable(commit).await {
            Ok(()) => result,
            Err(e) => Err(e),
        };
        let outcomes = match result {
            Ok(Response::Outcomes(outcomes)) if outcomes.len() == count => outcomes,
            Ok(other) => vec![Err(other.unexpected()); count],
            Err(e) => vec![Err(e); count],
        };
        for (answer, outcome) in answers.into_iter().zip(outcomes) {
            let _ = answer.send(outcome);
        }
    }

    /// Runs several statements (no parameters, no rows) as one atomic unit.
    pub async fn write_batch(mut self, sql: String) -> Result<Outcome, ShardError> {
        let response = self
            .held
            .call(Request::WriteBatch { sql }, Arc::default())
            .await?;
        self.held.release_durably().await?;
        outcome(response)
    }

    /// Runs a statement that cannot run inside a transaction (VACUUM), checking first
    /// that this is still the primary.
    pub async fn maintain(mut self, sql: String) -> Result<Outcome, ShardError> {
        let response = self
            .held
            .call(Request::Maintain { sql }, Arc::default())
            .await?;
        self.held.release_durably().await?;
        outcome(response)
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

    async fn begin_as(mut self, recorded: bool) -> Result<Transaction, ShardError> {
        done(
            self.held
                .call(Request::Begin { recorded }, Arc::default())
                .await?,
        )?;
        Ok(Transaction { held: self.held })
    }
}

/// An open write transaction: it holds the partition's writer until commit or rollback.
pub struct Transaction {
    held: Held,
}

impl Transaction {
    /// Runs a schema change (DDL). A recorded transaction records its SQL, since the
    /// session extension sees row changes only.
    pub async fn execute_schema_change(&mut self, sql: String) -> Result<Outcome, ShardError> {
        outcome(
            self.held
                .call(Request::SchemaChange { sql }, Arc::default())
                .await?,
        )
    }

    /// Step 1 of a cross-partition commit: what this part did, to be made durable before
    /// the decision. The transaction stays open, holding the writer.
    pub async fn prepare(&mut self) -> Result<Redo, ShardError> {
        match self.held.call(Request::Prepare, Arc::default()).await? {
            Response::Redo(bytes) => Redo::decode(&bytes),
            other => Err(other.unexpected()),
        }
    }

    /// Step 3: commits this part of the decided transaction `txid`, with the record that
    /// it did so; drops the records of transactions older than `forget_below`.
    pub async fn commit_decided(mut self, txid: u64, forget_below: u64) -> Result<(), ShardError> {
        let request = Request::CommitDecided { txid, forget_below };
        done(self.held.call(request, Arc::default()).await?)?;
        self.held.release_durably().await
    }

    pub async fn execute(
        &mut self,
        sql: String,
        params: Vec<Value>,
        interrupter: Arc<Interrupter>,
    ) -> Result<Outcome, ShardError> {
        outcome(
            self.held
                .call(Request::Execute { sql, params }, interrupter)
                .await?,
        )
    }

    pub async fn execute_batch(&mut self, sql: String) -> Result<Outcome, ShardError> {
        outcome(
            self.held
                .call(Request::ExecuteBatch { sql }, Arc::default())
                .await?,
        )
    }

    /// Runs one prepared INSERT for each row (COPY FROM); returns the rows inserted.
    pub async fn insert_rows(
        &mut self,
        sql: String,
        rows: Vec<Vec<Value>>,
    ) -> Result<u64, ShardError> {
        match self
            .held
            .call(Request::InsertRows { sql, rows }, Arc::default())
            .await?
        {
            Response::Count(n) => Ok(n),
            other => Err(other.unexpected()),
        }
    }

    pub async fn describe(&mut self, sql: String) -> Result<Vec<ColumnMeta>, ShardError> {
        columns(
            self.held
                .call(Request::Describe { sql }, Arc::default())
                .await?,
        )
    }

    pub async fn table_columns(
        &mut self,
        tables: Vec<String>,
    ) -> Result<Vec<(String, Vec<ColumnMeta>)>, ShardError> {
        tables_of(
            self.held
                .call(Request::TableColumns { tables }, Arc::default())
                .await?,
        )
    }

    /// Makes the transaction durable. On error it is rolled back (when `self` drops).
    pub async fn commit(mut self) -> Result<(), ShardError> {
        done(self.held.call(Request::Commit, Arc::default()).await?)?;
        self.held.release_durably().await
    }

    pub async fn rollback(mut self) -> Result<(), ShardError> {
        done(self.held.call(Request::Rollback, Arc::default()).await?)
    }
}

/// Runs SQLite work on this thread when it is a worker of a multi-thread runtime (a
/// client's lane): a hop to the blocking pool and back cost more than a point select and
/// was half of the time a transaction block held the writer, and `block_in_place` for each
/// statement still woke a second thread every time. Work that runs long lets this thread's
/// other tasks go on elsewhere from inside SQLite ([`hand_over_thread`]). Elsewhere
/// (single-threaded tests) the job goes to the blocking pool.
async fn sqlite_work<R: Send + 'static>(
    job: impl FnOnce() -> Result<R, ShardError> + Send + 'static,
) -> Result<R, ShardError> {
    if tokio::runtime::Handle::current().runtime_flavor() == RuntimeFlavor::MultiThread {
        return job();
    }
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| ShardError::new("XX000", format!("worker task failed: {e}")))?
}

/// Called from inside SQLite when a statement on a runtime's thread runs long: hands the
/// thread's other tasks to another thread, and this one goes on with the statement.
/// `block_in_place` hands the runtime's core to a new thread, and takes it back when its
/// closure returns if that thread has not taken it yet: so the closure waits until a task
/// spawned now has run, which on a one-worker runtime (a lane) means the core has moved.
/// A SQLite write cannot be stopped and run again elsewhere: undoing it would undo its
/// whole transaction.
fn hand_over_thread() {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    if runtime.runtime_flavor() != RuntimeFlavor::MultiThread {
        return;
    }
    tokio::task::block_in_place(|| {
        let (moved, wait) = std::sync::mpsc::channel();
        runtime.spawn(async move {
            let _ = moved.send(());
        });
        let _ = wait.recv_timeout(HAND_OVER_WAIT);
    });
}

/// How long a long statement waits for its thread's other tasks to move; past it, the
/// statement goes on where it is.
const HAND_OVER_WAIT: std::time::Duration = std::time::Duration::from_millis(100);
