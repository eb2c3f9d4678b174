//! Replicated storage (`[storage] engine = "jetstream"`): each partition's commits on a
//! quorum-replicated log in NATS JetStream; the partition's local file is a cache of the
//! log, caught up (or rebuilt) from it before it opens.
//! It must not know sessions, worker processes or what a commit's rows mean: it ships
//! and replays pages.
//!
//! The commit path: the primary commits in SQLite, reads the pages the commit wrote from
//! the WAL (`frames`), and appends them (`entry`) to the log, naming the message they
//! follow (`engine`); the commit is acknowledged only once a majority of the engine's
//! nodes hold it. An append that another writer's append preceded is refused: that is the
//! fence, decided by the log, so a deposed primary cannot commit, whatever any clock says.
//! A primary whose append was refused or left unanswered stops writing: its local file
//! holds a commit the log may not, and is rebuilt from the log when the partition opens
//! again (`catch_up`).
//!
//! Who may try to be the primary is decided by a lease in the engine (`lease`): a second
//! litescale process on the same databases waits, a standby, until the lease's holder
//! stops renewing it, then catches up and takes over.
//!
//! Order inside: `entry` <- `frames`; `entry`, `engine` <- `catch_up` <- `restore`;
//! `engine` <- `lease`; all <- this file.

mod catch_up;
mod engine;
mod entry;
mod frames;
mod lease;
mod restore;

use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::Connection;

use crate::engine::guard::as_litescale;
use crate::error::ShardError;
use crate::storage::fence::FENCED;
use entry::{Pages, Part};
use frames::WalCursor;

use catch_up::{CaughtUp, catch_up};
pub(crate) use engine::{LogEngine, PartitionLog, UNKNOWN_OUTCOME};
use lease::Lease;
pub use restore::{RestorePoint, restore};

/// WAL frames after which a primary checkpoints (SQLite's own default is 1000).
const CHECKPOINT_FRAMES: u64 = 1000;

/// A partition on its log, ready for its primary: the log, the lease that lets this
/// process try, and the local file caught up with the log.
pub(crate) struct OnLog {
    log: PartitionLog,
    lease: Lease,
    caught_up: CaughtUp,
    /// Set once this process lost the partition (see [`OnLog::lost`]).
    lost: Arc<AtomicBool>,
}

impl OnLog {
    /// Set once this process's primary lost its place on the log: its file may hold a
    /// commit the log does not, so its readers must not answer from it either.
    pub(crate) fn lost(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.lost)
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
    let log = engine.partition_log(database, index)?;
    let lease = engine.lease(log.name(), wait)?;
    let caught_up = catch_up(path, &log)?;
    Ok(OnLog {
        log,
        lease,
        caught_up,
        lost: Arc::default(),
    })
}

/// A primary's side of its partition's log: what it has shipped and where the log is.
pub(crate) struct Shipper {
    log: PartitionLog,
    lease: Lease,
    state: RefCell<ShipState>,
    lost: Arc<AtomicBool>,
}

struct ShipState {
    cursor: WalCursor,
    /// The log's last message, as this primary appended or found it.
    last: u64,
    /// Pages of the file as it was before the log began (an existing partition's first
    /// commit on an empty log carries them).
    base: Option<Pages>,
    /// Set once an append was refused (another primary appended): this primary writes
    /// no more.
    lost: Option<ShardError>,
    /// Parts of a commit the log did not answer for in time (`UNKNOWN_OUTCOME`), with
    /// their ids: sent again, under the same ids, before this primary writes again, so
    /// that the log ends up holding them once, whether or not it took them before.
    unanswered: Vec<(Vec<u8>, String)>,
    /// The id of the commit being made (stamped, not yet shipped).
    pending: Option<u64>,
}

impl Shipper {
    /// For the primary of the file at `path`, caught up as `caught_up` says; `conn` is
    /// its writable connection, nothing written on it yet.
    pub(crate) fn new(
        on_log: OnLog,
        path: &Path,
        conn: &Connection,
    ) -> Result<Shipper, ShardError> {
        let OnLog {
            log,
            lease,
            caught_up,
            lost,
        } = on_log;
        // SQLite must not start the WAL over behind this primary's back: a checkpoint it
        // completed by itself after a commit not shipped yet would let the next write
        // overwrite that commit's frames. The shipper checkpoints, after shipping.
        as_litescale(|| conn.pragma_update(None, "wal_autocheckpoint", 0))?;
        let (last, base) = match caught_up {
            CaughtUp::Through(last) => (last, None),
            CaughtUp::Unlogged => (0, Some(frames::whole_file(path)?)),
        };
        Ok(Shipper {
            log,
            lease,
            lost,
            state: RefCell::new(ShipState {
                cursor: WalCursor::new(path),
                last,
                base,
                lost: None,
                unanswered: Vec::new(),
                pending: None,
            }),
        })
    }

    /// Before a write: refuses it if this primary lost its place on the log; first
    /// sends again what the log did not answer for (the write waits for the engine).
    pub(crate) fn check(&self) -> Result<(), ShardError> {
        let mut state = self.state.borrow_mut();
        if state.lost.is_none() && self.lease.deposed() {
            let e = ShardError::new(FENCED, "another process took over the partition's lease");
            self.lose(&mut state, e);
        }
        if state.lost.is_none() && !state.unanswered.is_empty() {
            let parts = std::mem::take(&mut state.unanswered);
            self.send(&mut state, parts)?;
        }
        match &state.lost {
            Some(e) => Err(ShardError::new(
                FENCED,
                format!(
                    "this primary no longer writes the partition ({})",
                    e.message
                ),
            )),
            None => Ok(()),
        }
    }

    /// Inside a write transaction, just before COMMIT: the row that names the commit.
    pub(crate) fn stamp(&self, conn: &Connection) -> Result<(), ShardError> {
        self.check()?;
        let id = uuid::Uuid::new_v4().as_u64_pair().0;
        let mut state = self.state.borrow_mut();
        catch_up::stamp(conn, state.last + 1, id)?;
        state.pending = Some(id);
        Ok(())
    }

    /// After COMMIT: appends what the commits since the last append wrote; returns once
    /// the log holds it. An error leaves this primary unable to write.
    pub(crate) fn ship(&self, conn: &Connection) -> Result<(), ShardError> {
        let mut state = self.state.borrow_mut();
        let Some(id) = state.pending.take() else {
            return Ok(());
        };
        let parts = self.parts(&mut state, id)?;
        self.send(&mut state, parts)?;
        if state.cursor.frames_read() >= CHECKPOINT_FRAMES
            && let Err(e) = checkpoint(conn)
        {
            // The commit is in the log: a checkpoint that did not happen now happens
            // after a later commit.
            tracing::warn!(error = %e.message, "checkpoint after shipping failed");
        }
        Ok(())
    }

    /// This primary writes no more, and its readers answer no more.
    fn lose(&self, state: &mut ShipState, e: ShardError) {
        state.lost = Some(e);
        self.lost.store(true, Ordering::Relaxed);
    }

    /// The commit's messages, with their ids: what the commits since the last append
    /// wrote.
    fn parts(&self, state: &mut ShipState, id: u64) -> Result<Vec<(Vec<u8>, String)>, ShardError> {
        let mut pages = state.base.take().unwrap_or_default();
        if let Some(committed) = state.cursor.committed()? {
            pages.page_size = committed.page_size;
            pages.db_pages = committed.db_pages;
            pages.images.extend(committed.images);
        }
        Ok(Part::split(id, pages)
            .into_iter()
            .enumerate()
            .map(|(i, part)| (part.encode(), format!("{id:016x}-{i}")))
            .collect())
    }

    /// Appends `parts` in order. Refused: this primary is deposed for good. Unanswered:
    /// the rest is kept to be sent again (see `unanswered`).
    fn send(&self, state: &mut ShipState, parts: Vec<(Vec<u8>, String)>) -> Result<(), ShardError> {
        let mut parts = parts.into_iter();
        while let Some((payload, id)) = parts.next() {
            match self.log.append(payload.clone(), state.last, &id) {
                Ok(sequence) => state.last = sequence,
                Err(e) => {
                    if e.sqlstate == UNKNOWN_OUTCOME {
                        tracing::error!(error = %e.message, "the log did not answer for a commit; sent again before the next write");
                        state.unanswered = std::iter::once((payload, id)).chain(parts).collect();
                    } else {
                        tracing::error!(error = %e.message, "a commit did not reach the partition's log; this primary stops writing");
                        self.lose(state, e.clone());
                    }
                    return Err(e);
                }
            }
        }
        Ok(())
    }
}

/// Folds what the WAL holds into the database file, without waiting for readers: once
/// all of it is folded in, SQLite starts the WAL over at the next write.
fn checkpoint(conn: &Connection) -> Result<(), ShardError> {
    as_litescale(|| conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())))?;
    Ok(())
}
