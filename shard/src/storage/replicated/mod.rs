//! Replicated storage (`[storage] engine = "jetstream"`): each partition's commits on a
//! quorum-replicated log in NATS JetStream; the partition's local file is a cache of the
//! log, caught up (or rebuilt) from it before it opens.
//! It must not know sessions, worker processes or what a commit's rows mean: it ships
//! and replays pages.
//!
//! The commit path: the primary commits in SQLite, reads the pages the commit wrote from
//! the WAL (`frames`), and hands them to the partition's appender (`appender`), which
//! appends them in order (`entry`), each message naming the message it follows, the
//! commits handed while the log is busy gathered in one message (group commit); the
//! commit is acknowledged only once a majority of the engine's nodes hold it, which the
//! session waits for after letting the writer go. An append that another writer's append preceded is refused: that is the
//! fence, decided by the log, so a deposed primary cannot commit, whatever any clock says.
//! A primary whose append was refused or left unanswered stops writing: its local file
//! holds a commit the log may not, and is rebuilt from the log when the partition opens
//! again (`catch_up`).
//!
//! Who may try to be the primary is decided by a lease in the engine (`lease`): a second
//! litescale process on the same databases waits, a standby, until the lease's holder
//! stops renewing it, then catches up and takes over.
//!
//! Off the commit path the primary takes snapshots of the partition into the engine's
//! object store and purges the log below them (`file`): a new host restores the latest
//! snapshot and replays only the log after it.
//!
//! The decisions of transactions across partitions are in the engine too (`decisions`).
//!
//! Order inside: `entry` <- `outbox` <- `appender`, `engine` <- `log` <- `file`;
//! `engine` <- `lease`, `decisions`; all <- this file.

mod appender;
mod decisions;
mod engine;
mod entry;
mod file;
mod lease;
mod log;
mod outbox;

use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::Connection;

use crate::engine::guard::as_litescale;
use crate::error::ShardError;
use crate::storage::fence::FENCED;
use appender::Appender;
use entry::{Pages, Part};
use file::catch_up::{self, CaughtUp, catch_up};
pub(crate) use file::follower::{Follower, Progress};
use file::frames::{self, WalCursor};
use file::snapshot::Snapshots;
use file::snapshotter::Snapshotter;

pub(crate) use appender::LogAcks;
pub(crate) use engine::LogEngine;
pub use file::restore::{RestorePoint, Restored, restore};
pub(crate) use lease::Lease;
use log::PartitionLog;

/// WAL frames after which a primary checkpoints (SQLite's own default is 1000).
const CHECKPOINT_FRAMES: u64 = 1000;

/// A partition on its log, ready for its primary: the log, the lease that lets this
/// process try, and the local file caught up with the log.
pub(crate) struct OnLog {
    log: PartitionLog,
    lease: Lease,
    /// The log held no commit: the file (if any) is the partition, shipped whole with
    /// the first commit.
    unlogged: bool,
    /// This process's mark on the log: the message its first commit follows.
    last: u64,
    acks: Arc<LogAcks>,
    /// Set once this process lost the partition (see [`OnLog::lost`]).
    lost: Arc<AtomicBool>,
}

impl OnLog {
    /// Set once this process's primary lost its place on the log: its file may hold a
    /// commit the log does not, so its readers must not answer from it either.
    pub(crate) fn lost(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.lost)
    }

    /// Where the partition's commits stand on the log: a session's commit returns once
    /// its own is confirmed.
    pub(crate) fn acks(&self) -> Arc<LogAcks> {
        Arc::clone(&self.acks)
    }
}

/// Takes partition `index` of `database`: its lease (waiting up to `wait` while another
/// process holds it; `None`: as long as it takes), then the file at `path` caught up.
pub(crate) fn attach(
    engine: &Arc<LogEngine>,
    database: &str,
    index: usize,
    path: &Path,
    wait: Option<std::time::Duration>,
) -> Result<OnLog, ShardError> {
    let log = PartitionLog::open(engine, database, index)?;
    // A standby keeps its file caught up while it waits, so that taking over replays
    // only the last moments of the log.
    let lease = engine.lease(log.name(), wait, || catch_up(path, &log).map(drop))?;
    on_log(log, lease, Arc::default(), |log| catch_up(path, log))
}

/// The partition's file caught up with `log` (by `caught_up`), whose `lease` this
/// process holds, and this process's mark appended after it: the partition ready for its
/// primary. `lost` is the flag its readers check.
fn on_log(
    log: PartitionLog,
    lease: Lease,
    lost: Arc<AtomicBool>,
    mut caught_up: impl FnMut(&PartitionLog) -> Result<CaughtUp, ShardError>,
) -> Result<OnLog, ShardError> {
    // A deposed primary's appends may still land after this one read the log's end (they
    // were on their way): this one's mark, appended after what it caught up with, fails
    // then, and it catches up again. Once the mark is in, nothing older can append.
    let mut attempts = 0;
    loop {
        let caught_up = caught_up(&log)?;
        let after = match caught_up {
            CaughtUp::Through { end, .. } => end,
            CaughtUp::Unlogged => log.last_sequence()?,
        };
        let id = uuid::Uuid::new_v4().as_u64_pair().0;
        match log.append_after(after, Part::mark(id).encode(), &format!("{id:016x}-mark")) {
            Ok(mark) => {
                lost.store(false, Ordering::Relaxed);
                return Ok(OnLog {
                    log,
                    lease,
                    unlogged: matches!(caught_up, CaughtUp::Unlogged),
                    last: mark,
                    acks: LogAcks::new(Arc::clone(&lost)),
                    lost,
                });
            }
            Err(e) if e.sqlstate == FENCED && attempts < 10 => attempts += 1,
            Err(e) => return Err(e),
        }
    }
}

/// A partition as a process with peers ([storage] peer_listen) finds it: its own to
/// write, or another live process's, which this one follows meanwhile.
pub(crate) enum Attached {
    Here(OnLog),
    Elsewhere(Following, Takeover),
}

/// Partition `index` of `database` for a process with peers: its lease if nobody holds
/// it live (a round of about a second), else its file following the log.
pub(crate) fn attach_or_follow(
    engine: &Arc<LogEngine>,
    database: &str,
    index: usize,
    path: &Path,
) -> Result<Attached, ShardError> {
    let log = PartitionLog::open(engine, database, index)?;
    match engine.lease_within(log.name(), Some(std::time::Duration::ZERO), || Ok(()))? {
        Some(lease) => Ok(Attached::Here(on_log(log, lease, Arc::default(), |log| {
            catch_up(path, log)
        })?)),
        None => Ok(Attached::Elsewhere(
            follow_log(&log, path)?,
            Takeover { log },
        )),
    }
}

/// A partition another process holds the lease of: who that is, and taking it over
/// once it stops renewing.
pub(crate) struct Takeover {
    log: PartitionLog,
}

impl Takeover {
    /// What a peer link presents to the lease's holder.
    pub(crate) fn peer_secret(&self) -> Result<String, ShardError> {
        self.log.engine().peer_secret()
    }

    /// Where the lease's holder takes this process's writes (`None`: nobody holds it).
    pub(crate) async fn holder(&self) -> Result<Option<String>, ShardError> {
        self.log.engine().holder_peer(self.log.name()).await
    }

    /// Waits for the lease while `waiting()` says to (asked about once a second);
    /// `None` once it says no more.
    pub(crate) fn lease(
        &self,
        mut waiting: impl FnMut() -> bool,
    ) -> Result<Option<Lease>, ShardError> {
        let stopped = || ShardError::new("57P01", "no longer waiting for the lease");
        match self.log.engine().lease(self.log.name(), None, || {
            if waiting() { Ok(()) } else { Err(stopped()) }
        }) {
            Ok(lease) => Ok(Some(lease)),
            Err(e) if e.sqlstate == "57P01" && e.message == stopped().message => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// With the lease taken: the follower stopped, the file caught up in place (its
    /// readers read on) and this process's mark on the log, ready for its primary.
    pub(crate) fn attach(
        &self,
        lease: Lease,
        lost: Arc<AtomicBool>,
        follower: Follower,
    ) -> Result<OnLog, ShardError> {
        let mut stopped = follower
            .stop()
            .ok_or_else(|| ShardError::new("XX000", "the partition's follower thread died"))?;
        on_log(self.log.clone(), lease, lost, |log| stopped.catch_up(log))
    }
}

/// A replica's partition: its file caught up with the log, then following it.
pub(crate) struct Following {
    pub follower: Follower,
    /// Set once the replica fell behind its log's snapshots.
    pub lost: Arc<AtomicBool>,
}

/// Partition `index` of `database` as a replica: no lease (a replica writes nothing),
/// the file at `path` caught up with the log, then following it.
pub(crate) fn follow(
    engine: &Arc<LogEngine>,
    database: &str,
    index: usize,
    path: &Path,
) -> Result<Following, ShardError> {
    follow_log(&PartitionLog::open(engine, database, index)?, path)
}

fn follow_log(log: &PartitionLog, path: &Path) -> Result<Following, ShardError> {
    let through = match catch_up(path, log)? {
        CaughtUp::Through { whole, end } => whole.map_or(end, |w| w.sequence),
        CaughtUp::Unlogged => 0,
    };
    let lost = Arc::<AtomicBool>::default();
    let follower = Follower::start(log, path, through, Arc::clone(&lost))?;
    Ok(Following { follower, lost })
}

/// A primary's side of its partition's log: what it has handed to the log.
pub(crate) struct Shipper {
    appender: Appender,
    acks: Arc<LogAcks>,
    lease: Lease,
    state: RefCell<ShipState>,
    lost: Arc<AtomicBool>,
}

struct ShipState {
    cursor: WalCursor,
    /// Pages of the file as it was before the log began (an existing partition's first
    /// commit on an empty log carries them).
    base: Option<Pages>,
}

impl Shipper {
    /// For the primary of the file at `path`, caught up as `on_log` says; `conn` is its
    /// writable connection, nothing written on it yet.
    pub(crate) fn new(
        on_log: OnLog,
        path: &Path,
        conn: &Connection,
    ) -> Result<Shipper, ShardError> {
        let OnLog {
            log,
            lease,
            unlogged,
            last,
            acks,
            lost,
        } = on_log;
        // SQLite must not start the WAL over behind this primary's back: a checkpoint it
        // completed by itself after a commit not shipped yet would let the next write
        // overwrite that commit's frames. The shipper checkpoints, after shipping.
        as_litescale(|| conn.pragma_update(None, "wal_autocheckpoint", 0))?;
        let base = unlogged.then(|| frames::whole_file(path)).transpose()?;
        let engine = log.engine();
        let mut snapshotter = Snapshotter::start(
            &log,
            path,
            engine.snapshot_every_mb(),
            engine.snapshots_kept(),
            Arc::clone(&lost),
        )?;
        let on_sent = Box::new(move |bytes, through| {
            if let Some(snapshotter) = &mut snapshotter {
                snapshotter.handed(bytes, through);
            }
        });
        Ok(Shipper {
            appender: log.appender(last, Arc::clone(&acks), on_sent),
            acks,
            lease,
            lost,
            state: RefCell::new(ShipState {
                cursor: WalCursor::new(path),
                base,
            }),
        })
    }

    /// Before a write: refuses it once this primary lost its place (a commit the log
    /// refused or never answered for, or the lease taken by another process).
    pub(crate) fn check(&self) -> Result<(), ShardError> {
        let failure = self.acks.failure().or_else(|| {
            if self.lease.deposed() {
                Some(ShardError::new(
                    FENCED,
                    "another process took over the partition's lease",
                ))
            } else if self.lost.load(Ordering::Relaxed) {
                Some(ShardError::new(
                    FENCED,
                    "a commit of this primary's is not on the log",
                ))
            } else {
                None
            }
        });
        match failure {
            Some(e) => {
                self.lost.store(true, Ordering::Relaxed);
                Err(ShardError::new(
                    FENCED,
                    format!(
                        "this primary no longer writes the partition ({})",
                        e.message
                    ),
                ))
            }
            None => Ok(()),
        }
    }

    /// Whether a write transaction is open on the primary's connection now (see
    /// `appender`: the commits waiting to be appended wait a while for its commit).
    pub(crate) fn writing(&self, writing: bool) {
        self.appender.writing(writing);
    }

    /// Commits the write transaction open on `conn` by `commit`, stamped with the log
    /// sequence it will be appended at (the row that names it), and hands what it wrote
    /// to the log. The commit is durable once [`LogAcks::wait`] says so, after the writer
    /// is let go. On an error the transaction may still be open: the caller rolls it back.
    pub(crate) fn commit(
        &self,
        conn: &Connection,
        commit: impl FnOnce() -> Result<(), ShardError>,
    ) -> Result<(), ShardError> {
        self.check()?;
        let id = uuid::Uuid::new_v4().as_u64_pair().0;
        let sequence = self.appender.join();
        if let Err(e) = catch_up::stamp(conn, sequence, id).and_then(|()| commit()) {
            self.appender.withdraw();
            return Err(e);
        }
        let mut state = self.state.borrow_mut();
        let pages = match self.committed_pages(&mut state) {
            Ok(pages) => pages,
            Err(e) => {
                self.appender.withdraw();
                // Committed in the file, never on the log: the file is no longer the
                // log's state, and the commit is not acknowledged.
                self.lost.store(true, Ordering::Relaxed);
                return Err(ShardError::new(
                    "58030",
                    format!(
                        "the commit could not be handed to the log, so it is not durable; this primary writes no more ({})",
                        e.message
                    ),
                ));
            }
        };
        self.appender.hand(id, pages);
        if state.cursor.frames_read() >= CHECKPOINT_FRAMES
            && let Err(e) = checkpoint(conn)
        {
            // The commit is handed over: a checkpoint that did not happen now happens
            // after a later commit.
            tracing::warn!(error = %e.message, "checkpoint after shipping failed");
        }
        Ok(())
    }

    /// The pages the commit just made wrote (with the file's own, before its first).
    fn committed_pages(&self, state: &mut ShipState) -> Result<Pages, ShardError> {
        let mut pages = state.base.take().unwrap_or_default();
        if let Some(committed) = state.cursor.committed()? {
            pages.page_size = committed.page_size;
            pages.db_pages = committed.db_pages;
            pages.images.extend(committed.images);
        }
        // A commit writes its stamp at least: no page means the WAL is not where it was
        // (the file removed under the process).
        if pages.images.is_empty() {
            return Err(ShardError::new(
                "58030",
                "the WAL holds no page of the commit",
            ));
        }
        Ok(pages)
    }
}

/// Folds what the WAL holds into the database file, without waiting for readers: once
/// all of it is folded in, SQLite starts the WAL over at the next write.
fn checkpoint(conn: &Connection) -> Result<(), ShardError> {
    as_litescale(|| conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())))?;
    Ok(())
}

/// `database`'s log of transactions across partitions, in the engine.
pub(crate) fn transaction_log(
    engine: &Arc<LogEngine>,
    database: &str,
) -> Result<crate::storage::TxLog, ShardError> {
    let generation = PartitionLog::open(engine, database, 0)?.generation();
    let store = decisions::EngineTxStore::new(engine, database, generation);
    crate::storage::TxLog::open(Box::new(store))
}

/// Deletes `database`'s logs, snapshots and transaction log (DROP DATABASE).
pub(crate) fn delete_database(engine: &Arc<LogEngine>, database: &str, partitions: usize) {
    let transactions = PartitionLog::open(engine, database, 0).and_then(|log| {
        decisions::EngineTxStore::new(engine, database, log.generation()).delete_all()
    });
    if let Err(e) = transactions {
        tracing::warn!(database, error = %e.message, "could not delete a dropped database's transaction log");
    }
    for i in 0..partitions {
        let log = engine::stream_name(database, i);
        if let Err(e) = Snapshots::named(engine, &log).delete_all() {
            tracing::warn!(log, error = %e.message, "could not delete a dropped database's snapshots");
        }
    }
    engine.delete_logs(database, partitions);
}
