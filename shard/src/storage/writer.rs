//! The partition's primary connection: a writable connection fenced as the only one that
//! writes (`Writer`), or set up and waiting to be promoted (`Standby`). It serves the
//! requests that write; reads on it go to the engine like any reader's.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, params_from_iter};

use crate::engine::guard::as_litescale;
use crate::engine::long_running::{note_long, stop_noting_long};
use crate::engine::options::ConnectionOptions;
use crate::engine::reads::serve_read;
use crate::engine::sqlite_errors::name_violated_constraint;
use crate::engine::statements::{
    as_copy, describe, execute_statements, run, run_batch, table_columns,
};
use crate::engine::{BlockValues, in_block};
use crate::error::ShardError;
use crate::interrupt::Interrupter;
use crate::messages::{Request, Response};
use crate::storage::commit_records::{COMMITS_TABLE, forget_commits_below, record_commit};
use crate::storage::fence::{ELECTION_WAIT, Fence};
use crate::storage::open::{open_reader, open_writable};
use crate::storage::redo::{Recording, Redo};
use crate::storage::replicated::{OnLog, Shipper};
use crate::storage::txlog::Participant;
use crate::value::Outcome;

/// A partition's only writing connection, fenced as its primary.
pub(crate) struct Writer {
    conn: Connection,
    fence: Fence,
    /// For a transaction that may be one part of a cross-partition transaction. It must
    /// end before the connection serves anyone else, or it would record their changes.
    recording: Option<Recording>,
    /// Bytes one statement's materialised result may hold (`limits.max_result_mb`).
    max_result_bytes: usize,
    /// The sequence numbers the open session block was handed (currval, lastval).
    block_values: Option<BlockValues>,
    /// On replicated storage: each commit is on the partition's log before it returns.
    shipper: Option<Shipper>,
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
        Standby::open(path, options)?.promote(path, wait, force, None)
    }

    /// As [`Writer::open`], for a partition on a replicated log: the file at `path` is
    /// already the log's state and this process's mark is on it (`storage/replicated`);
    /// every commit is handed to the log.
    pub fn open_logged(
        path: &Path,
        options: &ConnectionOptions,
        on_log: OnLog,
    ) -> Result<Writer, ShardError> {
        Standby::open(path, options)?.promote(path, ELECTION_WAIT, false, Some(on_log))
    }

    /// A replica's stand-in for the writer: a read-only connection, so SQLite refuses every
    /// write a session sends it (25006); the replica's file is written by its follower.
    pub fn replica(path: &Path, options: &ConnectionOptions) -> Result<Writer, ShardError> {
        Ok(Writer {
            conn: open_reader(path, options)?,
            fence: Fence::none(),
            recording: None,
            max_result_bytes: options.max_result_bytes,
            block_values: None,
            shipper: None,
        })
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
        self.note_writing();
    }

    /// BEGIN IMMEDIATE, then the fence: nothing is written unless this is still the primary.
    fn begin(&self) -> Result<(), ShardError> {
        if let Some(shipper) = &self.shipper {
            shipper.check()?;
        }
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        if let Err(e) = self.fence.check(&self.conn) {
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(e);
        }
        self.note_writing();
        Ok(())
    }

    /// Tells the shipper whether a transaction is open on the writer.
    fn note_writing(&self) {
        if let Some(shipper) = &self.shipper {
            shipper.writing(!self.conn.is_autocommit());
        }
    }

    /// Runs `job` in a transaction of its own, committed (durably) if it succeeds.
    fn in_own_transaction(
        &self,
        job: impl FnOnce(&Connection) -> Result<Outcome, ShardError>,
    ) -> Result<Outcome, ShardError> {
        self.begin()?;
        match job(&self.conn) {
            Ok(outcome) => {
                self.commit()?;
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

    /// Commits the open transaction: on replicated storage, stamped with its place in
    /// the log and handed to it (durable once the log holds it). A failed COMMIT is
    /// rolled back.
    fn commit(&self) -> Result<(), ShardError> {
        let c = &self.conn;
        let commit = || c.execute_batch("COMMIT").map_err(ShardError::from);
        let committed = match &self.shipper {
            Some(shipper) => shipper.commit(c, commit),
            None => commit(),
        };
        if committed.is_err() && !c.is_autocommit() {
            let _ = c.execute_batch("ROLLBACK");
        }
        committed
    }

    /// Ships what statements outside a transaction (maintenance, litescale's own
    /// bookkeeping) committed, as a commit of its own.
    fn ship_autocommitted(&self) -> Result<(), ShardError> {
        if self.shipper.is_none() {
            return Ok(());
        }
        self.begin()?;
        self.commit()
    }

    /// Serves one request on the writer.
    pub fn serve(&mut self, request: Request, interrupter: &Interrupter) -> Response {
        let ends_block = matches!(
            request,
            Request::Commit | Request::Rollback | Request::CommitDecided { .. }
        );
        if matches!(request, Request::Begin { .. }) {
            self.block_values = Some(BlockValues::default());
        }
        let mut values = self.block_values.take();
        let response = in_block(&mut values, || self.try_serve(request, interrupter))
            .unwrap_or_else(Response::Error);
        self.block_values = if ends_block { None } else { values };
        self.note_writing();
        // Only a write violates a constraint, and only the catalog names it.
        let named = |e| name_violated_constraint(&self.conn, e);
        match response {
            Response::Error(e) => Response::Error(named(e)),
            Response::Outcomes(outcomes) => {
                Response::Outcomes(outcomes.into_iter().map(|o| o.map_err(named)).collect())
            }
            other => other,
        }
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
                execute_statements(c, &sql)?;
                Ok(Outcome::Changed(0))
            })?),
            Request::Maintain { sql } => {
                self.fence.check(c)?;
                c.execute_batch(&sql)?;
                self.ship_autocommitted()?;
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
                let outcome = run_batch(c, &sql)?;
                if let Some(recording) = &mut self.recording {
                    recording.schema_changed(c)?;
                }
                Response::Outcome(outcome)
            }
            Request::InsertRows { sql, rows } => {
                as_copy(c, &sql, || {
                    let mut stmt = c.prepare_cached(&sql)?;
                    rows.iter()
                        .try_for_each(|row| stmt.execute(params_from_iter(row)).map(drop))
                })??;
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
                self.commit()?;
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
                self.commit()?;
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
        Ok(Standby {
            conn: open_writable(path, options)?,
            max_result_bytes: options.max_result_bytes,
        })
    }

    /// Becomes the primary: the election lock, a new epoch, then litescale's own table;
    /// on a replicated log (`logged`), all of that as the first commit appended.
    pub fn promote(
        self,
        path: &Path,
        wait: Duration,
        force: bool,
        logged: Option<OnLog>,
    ) -> Result<Writer, ShardError> {
        let Standby {
            conn,
            max_result_bytes,
        } = self;
        let shipper = logged
            .map(|on_log| Shipper::new(on_log, path, &conn))
            .transpose()?;
        let fence = Fence::acquire(path, &conn, wait, force)?;
        as_litescale(|| {
            conn.execute_batch(&format!(
                "CREATE TABLE IF NOT EXISTS {COMMITS_TABLE} (txid INTEGER PRIMARY KEY)"
            ))
        })?;
        let writer = Writer {
            conn,
            fence,
            recording: None,
            max_result_bytes,
            block_values: None,
            shipper,
        };
        writer.ship_autocommitted()?;
        Ok(writer)
    }
}

impl Participant for Writer {
    /// Recovery of a decided cross-partition transaction: commits its part here, from its
    /// redo, unless this partition already did. Returns whether it replayed.
    fn finish_decided(
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

    fn forget_commits_below(&self, txid: u64) -> Result<(), ShardError> {
        forget_commits_below(&self.conn, txid)?;
        self.ship_autocommitted()
    }
}
