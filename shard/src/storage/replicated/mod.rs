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
//! Order inside: `entry` <- `frames`; `entry`, `engine` <- `catch_up` <- `restore`; all
//! <- this file.

mod catch_up;
mod engine;
mod entry;
mod frames;
mod restore;

use std::cell::RefCell;
use std::path::Path;

use rusqlite::Connection;

use crate::engine::guard::as_litescale;
use crate::error::ShardError;
use crate::storage::fence::FENCED;
use entry::{Pages, Part};
use frames::WalCursor;

pub(crate) use catch_up::{CaughtUp, catch_up};
pub(crate) use engine::{LogEngine, PartitionLog};
pub use restore::{RestorePoint, restore};

/// WAL frames after which a primary checkpoints (SQLite's own default is 1000).
const CHECKPOINT_FRAMES: u64 = 1000;

/// A primary's side of its partition's log: what it has shipped and where the log is.
pub(crate) struct Shipper {
    log: PartitionLog,
    state: RefCell<ShipState>,
}

struct ShipState {
    cursor: WalCursor,
    /// The log's last message, as this primary appended or found it.
    last: u64,
    /// Pages of the file as it was before the log began (an existing partition's first
    /// commit on an empty log carries them).
    base: Option<Pages>,
    /// Set once an append was refused or unanswered: this primary writes no more.
    lost: Option<ShardError>,
    /// The id of the commit being made (stamped, not yet shipped).
    pending: Option<u64>,
}

impl Shipper {
    /// For the primary of the file at `path`, caught up as `caught_up` says; `conn` is
    /// its writable connection, nothing written on it yet.
    pub(crate) fn new(
        log: PartitionLog,
        path: &Path,
        conn: &Connection,
        caught_up: CaughtUp,
    ) -> Result<Shipper, ShardError> {
        // SQLite must not start the WAL over behind this primary's back: a checkpoint it
        // completed by itself after a commit not shipped yet would let the next write
        // overwrite that commit's frames. The shipper checkpoints, after shipping.
        as_litescale(|| conn.pragma_update(None, "wal_autocheckpoint", 0))?;
        let (last, base) = match caught_up {
            CaughtUp::Through(last) => (last, None),
            CaughtUp::Unlogged => {
                checkpoint(conn, "TRUNCATE")?;
                (0, Some(frames::whole_file(path)?))
            }
        };
        Ok(Shipper {
            log,
            state: RefCell::new(ShipState {
                cursor: WalCursor::new(path),
                last,
                base,
                lost: None,
                pending: None,
            }),
        })
    }

    /// Refuses a write of a primary that lost its place on the log.
    pub(crate) fn check(&self) -> Result<(), ShardError> {
        match &self.state.borrow().lost {
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
        let result = self.append(&mut state, id);
        if let Err(e) = &result {
            tracing::error!(error = %e.message, "a commit did not reach the partition's log; this primary stops writing");
            state.lost = Some(e.clone());
        }
        result?;
        if state.cursor.frames_read() >= CHECKPOINT_FRAMES {
            // Everything in the WAL is shipped: it may start over.
            checkpoint(conn, "PASSIVE")?;
        }
        Ok(())
    }

    fn append(&self, state: &mut ShipState, id: u64) -> Result<(), ShardError> {
        let mut pages = state.base.take().unwrap_or_default();
        if let Some(committed) = state.cursor.committed()? {
            pages.page_size = committed.page_size;
            pages.db_pages = committed.db_pages;
            pages.images.extend(committed.images);
        }
        for (i, part) in Part::split(id, pages).into_iter().enumerate() {
            state.last = self
                .log
                .append(part.encode(), state.last, &format!("{id:016x}-{i}"))?;
        }
        Ok(())
    }
}

/// Folds the WAL into the database file (`mode`: SQLite's checkpoint modes).
fn checkpoint(conn: &Connection, mode: &str) -> Result<(), ShardError> {
    as_litescale(|| conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |_| Ok(())))?;
    Ok(())
}
