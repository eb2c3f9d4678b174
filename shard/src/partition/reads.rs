//! A partition's reads: whole, whole-if-small, streamed, described; on a reader of this
//! process or on a worker's.

use std::sync::Arc;

use rusqlite::Connection;

use crate::engine::reads::serve_reader_noting_long;
use crate::engine::statements::{RESULT_TOO_LARGE, stream, table_columns};
use crate::error::ShardError;
use crate::interrupt::Interrupter;
use crate::messages::{Reply, Request, Response};
use crate::partition::Partition;
use crate::partition::answers::{columns, tables_of};
use crate::partition::backend::Backend;
use crate::partition::threads::{hand_over_thread, sqlite_work};
use crate::row_stream::{RowStream, StreamForward};
use crate::storage::open_reader;
use crate::usage::timed;
use crate::value::{ColumnMeta, Outcome, Value};

/// What [`Partition::read_if_small`] found.
pub enum SmallRead {
    /// The whole result (`None`: the statement writes, and belongs on the writer).
    Done(Option<Outcome>),
    /// More than the budget: stream it.
    TooLarge,
}

/// Rows in flight between a reader and the client, per streamed query.
const STREAM_BUFFER_ROWS: usize = 1024;

impl Partition {
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
                            serve_reader_noting_long(
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
                            stream(c, &sql, &params, &interrupter, |r| forward.blocking_send(r))
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
        local.serving()?;
        let mut conn = match local
            .readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
        {
            Some(c) => c,
            None => open_reader(&self.path, &local.options)?,
        };
        let result = job(&mut conn);
        let mut idle = local.readers.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < local.options.storage.idle_readers {
            idle.push(conn);
        }
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
            Ok(Response::Error(e)) if e.sqlstate == RESULT_TOO_LARGE => Ok(SmallRead::TooLarge),
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
}
