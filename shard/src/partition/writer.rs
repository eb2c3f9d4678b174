//! The partition's writer, held: `WriterLock` until its first statement, then a
//! `Transaction` until commit or rollback; each call a request to the writer in this
//! process or to the primary worker, and each commit durable before it is acknowledged.

use std::sync::Arc;

use tokio::sync::OwnedMutexGuard;

use crate::error::ShardError;
use crate::interrupt::Interrupter;
use crate::messages::{Reply, Request, Response};
use crate::partition::Partition;
use crate::partition::answers::{columns, done, outcome, tables_of};
use crate::partition::backend::Backend;
use crate::partition::peer_link::PeerWriter;
use crate::partition::threads::{hand_over_thread, sqlite_work};
use crate::storage::{Participant, Redo, Writer};
use crate::usage::timed;
use crate::value::{ColumnMeta, Outcome, Value};
use crate::workers::RemoteWriter;

impl Partition {
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

    /// Waits until commit `seq` (from [`Held::call`]) is on disk.
    pub(super) async fn durable(&self, seq: Option<u64>) -> Result<(), ShardError> {
        match (self.durability.get(), seq) {
            (Some(durability), Some(seq)) => durability.wait(seq).await,
            _ => Ok(()),
        }
    }

    /// The writer, if nobody holds it.
    pub fn try_lock_writer(self: &Arc<Self>) -> Option<WriterLock> {
        let slot = match &self.backend {
            Backend::Local(l) => match l.forward.as_ref().filter(|f| f.active()) {
                Some(forward) => Slot::Peer(forward.writer().try_lock_owned().ok()?),
                None => Slot::Local(Arc::clone(&l.writer).try_lock_owned().ok()?),
            },
            Backend::Remote(g) => Slot::Remote(g.writer().try_lock_owned().ok()?),
        };
        Some(self.writer_lock(slot))
    }

    /// Waits for the writer: whoever holds the lock is the only one who may write.
    pub async fn lock_writer(self: &Arc<Self>) -> WriterLock {
        let slot = match &self.backend {
            Backend::Local(l) => match l.forward.as_ref().filter(|f| f.active()) {
                Some(forward) => Slot::Peer(forward.writer().lock_owned().await),
                None => Slot::Local(Arc::clone(&l.writer).lock_owned().await),
            },
            Backend::Remote(g) => Slot::Remote(g.writer().lock_owned().await),
        };
        self.writer_lock(slot)
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

impl Participant for Partition {
    /// Recovery of a decided cross-partition transaction: commits its part here, from
    /// its redo, unless this partition already did. Returns whether it replayed.
    fn finish_decided(
        &self,
        txid: u64,
        redo: impl FnOnce() -> Result<Redo, ShardError>,
    ) -> Result<bool, ShardError> {
        let replayed = self.with_writer_now(|w| w.finish_decided(txid, redo))?;
        if replayed && let Some(durability) = self.durability.get() {
            // Durable before the log that could replay it again is forgotten.
            durability.sync_now()?;
        }
        Ok(replayed)
    }

    /// Drops the commit records of transactions older than `txid` (see storage/txlog.rs).
    fn forget_commits_below(&self, txid: u64) -> Result<(), ShardError> {
        self.with_writer_now(|w| w.forget_commits_below(txid))
    }
}

/// The writer's connection, held: in this process, a link to the primary worker, or a
/// link to the litescale process that is the partition's primary (a peer's).
enum Slot {
    Local(OwnedMutexGuard<Writer>),
    Remote(OwnedMutexGuard<RemoteWriter>),
    Peer(OwnedMutexGuard<PeerWriter>),
}

/// The writer, held, with the partition it belongs to. If dropped with a transaction
/// still open (client gone, task cancelled) the transaction is rolled back before the next
/// writer gets the connection.
pub(super) struct Held {
    // `None` only while the connection is lent to a blocking task.
    slot: Option<Slot>,
    pub(super) partition: Arc<Partition>,
    /// The last commit made on the writer, to wait for its fsync once the writer is let go.
    pub(super) commit: Option<u64>,
}

impl Drop for Held {
    fn drop(&mut self) {
        match &mut self.slot {
            Some(Slot::Local(writer)) => writer.abandon(),
            // The link cannot roll back from here (no await in drop): the next holder does.
            Some(Slot::Remote(_) | Slot::Peer(_)) | None => {}
        }
    }
}

impl Held {
    /// Lets the writer go, then waits for the fsync of the commit made on it (group
    /// commit: the next transaction writes meanwhile).
    pub(super) async fn release_durably(mut self) -> Result<(), ShardError> {
        let commit = self.commit.take();
        let partition = Arc::clone(&self.partition);
        drop(self);
        partition.durable(commit).await
    }

    pub(super) async fn call(
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
            Slot::Peer(mut peer) => {
                let answer = peer.call(request, &interrupter).await;
                let (reply, position) = answer?;
                if let Some(position) = position {
                    // Acknowledged here only once a read here would see it.
                    self.partition.reached_forwarded(position).await;
                }
                (Slot::Peer(peer), reply)
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
            && let Some(durability) = self.partition.durability.get()
        {
            self.commit = Some(durability.committed());
        }
        Ok(reply.body)
    }
}

/// The partition's writer, held and not yet used. Waiting for it can be abandoned
/// safely; once a statement runs on it, it runs to the end.
pub struct WriterLock {
    pub(super) held: Held,
}

impl WriterLock {
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
