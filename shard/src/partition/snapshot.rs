//! A read transaction held on one reader of this process, for a READ ONLY block at
//! REPEATABLE READ or SERIALIZABLE: every read in it sees the database as of its first.

use std::sync::Arc;

use rusqlite::Connection;

use crate::engine::reads::serve_reader_noting_long;
use crate::error::ShardError;
use crate::interrupt::Interrupter;
use crate::messages::{Reply, Request, Response};
use crate::partition::Partition;
use crate::partition::backend::Backend;
use crate::partition::threads::{hand_over_thread, sqlite_work};
use crate::partition::writer::WriterLock;
use crate::storage::open_reader;
use crate::usage::timed;
use crate::value::{Outcome, Value};

impl Partition {
    /// A read transaction held on one reader of this process (see [`ReadSnapshot`]);
    /// `None` with worker processes, whose reader links serve one request at a time and
    /// keep no transaction between them.
    pub fn snapshot(self: &Arc<Self>) -> Result<Option<ReadSnapshot>, ShardError> {
        let Backend::Local(local) = &self.backend else {
            return Ok(None);
        };
        local.serving()?;
        let idle = local
            .readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop();
        let conn = match idle {
            Some(c) => c,
            None => open_reader(&self.path, &local.options)?,
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
                serve_reader_noting_long(
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
