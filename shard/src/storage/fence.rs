//! One primary per partition, always: election and fencing in the storage layer.
//!
//! Election is an exclusive lock on `<partition>.db.primary` next to the data: the kernel
//! drops it when its holder dies, so a replacement can take it at once. Fencing is an epoch
//! stored in the partition's own file (`_litescale_fence`): a new primary bumps it, and
//! every write transaction of a primary checks it under SQLite's write lock before it
//! writes. A primary that lost its place without dying (paused, partitioned, or replaced by
//! a forced promotion) finds a newer epoch at its next write and cannot commit.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::engine::guard::as_litescale;
use crate::error::ShardError;

const FENCE_TABLE: &str = "_litescale_fence";

/// How long a new primary waits for a dead one's election lock to be released.
pub(crate) const ELECTION_WAIT: Duration = Duration::from_secs(2);

/// SQLSTATE of a write refused because another worker is, or has become, the primary:
/// what a Postgres standby answers to a write (read_only_sql_transaction).
pub const FENCED: &str = "25006";

/// The right to write a partition, held by its primary.
#[derive(Debug)]
pub(crate) struct Fence {
    /// Held open for the lock it carries; dropping it lets another primary in. `None`
    /// after a forced promotion.
    _lock: Option<File>,
    epoch: i64,
}

impl Fence {
    /// A replica's: it writes nothing (its writer's connection is read-only), so it
    /// holds no lock and has no epoch.
    pub fn none() -> Fence {
        Fence {
            _lock: None,
            epoch: 0,
        }
    }

    /// Becomes the partition's primary: takes the lock, waiting up to `wait` for a dying
    /// holder to go, then bumps the epoch with `writer`. With `force` (an operator's
    /// promotion over a holder that is alive but unresponsive) it goes on without the lock:
    /// the new epoch alone keeps the old primary from writing.
    pub fn acquire(
        db_path: &Path,
        writer: &Connection,
        wait: Duration,
        force: bool,
    ) -> Result<Fence, ShardError> {
        let lock = take_lock(db_path, wait, force)?;
        as_litescale(|| {
            writer.execute_batch(&format!(
                "BEGIN IMMEDIATE;
                 CREATE TABLE IF NOT EXISTS {FENCE_TABLE} (epoch INTEGER NOT NULL);
                 INSERT INTO {FENCE_TABLE} SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM {FENCE_TABLE});
                 UPDATE {FENCE_TABLE} SET epoch = epoch + 1;"
            ))
        })?;
        let epoch = read_epoch(writer);
        match epoch {
            Ok(epoch) => {
                writer.execute_batch("COMMIT")?;
                Ok(Fence { _lock: lock, epoch })
            }
            Err(e) => {
                let _ = writer.execute_batch("ROLLBACK");
                Err(e.into())
            }
        }
    }

    pub fn epoch(&self) -> i64 {
        self.epoch
    }

    /// Checks, inside a write transaction (SQLite's write lock held), that no newer primary
    /// exists. A fenced primary must stop writing: its caller rolls back.
    pub fn check(&self, writer: &Connection) -> Result<(), ShardError> {
        let now = read_epoch(writer)?;
        if now != self.epoch {
            return Err(ShardError::new(
                FENCED,
                format!(
                    "this worker is no longer the partition's primary (epoch {} is now {now})",
                    self.epoch
                ),
            ));
        }
        Ok(())
    }
}

/// The epoch in the partition's file now: a primary that finds another than its own was
/// deposed.
pub(crate) fn read_epoch(conn: &Connection) -> rusqlite::Result<i64> {
    as_litescale(|| {
        conn.query_row(&format!("SELECT epoch FROM {FENCE_TABLE}"), [], |r| {
            r.get(0)
        })
    })
}

fn take_lock(db_path: &Path, wait: Duration, force: bool) -> Result<Option<File>, ShardError> {
    let mut name = db_path.as_os_str().to_owned();
    name.push(".primary");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&name)?;
    // A forced promotion does not wait: the holder is alive but not answering.
    let deadline = if force {
        Instant::now()
    } else {
        Instant::now() + wait
    };
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(file)),
            Err(TryLockError::WouldBlock) if !force && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_micros(200));
            }
            Err(TryLockError::WouldBlock) if force => return Ok(None),
            Err(TryLockError::WouldBlock) => {
                return Err(ShardError::new(
                    FENCED,
                    format!("{} has a live primary", db_path.display()),
                ));
            }
            Err(TryLockError::Error(e)) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(path: &Path) -> Connection {
        let c = Connection::open(path).unwrap();
        c.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))
            .unwrap();
        c
    }

    #[test]
    fn a_second_primary_cannot_take_a_live_primarys_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.db");
        let (a, b) = (open(&path), open(&path));
        let first = Fence::acquire(&path, &a, Duration::ZERO, false).unwrap();
        let err = Fence::acquire(&path, &b, Duration::from_millis(5), false).unwrap_err();
        assert_eq!(err.sqlstate, FENCED);
        drop(first);
        let second = Fence::acquire(&path, &b, Duration::ZERO, false).unwrap();
        assert_eq!(second.epoch(), 2);
    }

    #[test]
    fn a_forced_promotion_fences_the_old_primary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.db");
        let (a, b) = (open(&path), open(&path));
        let old = Fence::acquire(&path, &a, Duration::ZERO, false).unwrap();
        let new = Fence::acquire(&path, &b, Duration::ZERO, true).unwrap();
        assert!(old._lock.is_some() && new._lock.is_none());
        a.execute_batch("BEGIN IMMEDIATE").unwrap();
        assert_eq!(old.check(&a).unwrap_err().sqlstate, FENCED);
        a.execute_batch("ROLLBACK").unwrap();
        b.execute_batch("BEGIN IMMEDIATE").unwrap();
        new.check(&b).unwrap();
        b.execute_batch("COMMIT").unwrap();
    }
}
