//! A replica's partition file following its log while its readers read it: each commit's
//! pages are written through SQLite's `sqlite_dbpage` in one transaction, so a reader
//! sees a commit whole or not at all (a catch-up's replay writes pages into a file
//! nothing has open). The file stays, page for page, the log's state.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::Connection;

use crate::error::ShardError;
use crate::storage::replicated::entry::Part;
use crate::storage::replicated::file::catch_up::{PURGED, replay_commits};
use crate::storage::replicated::log::PartitionLog;

/// How often a replica asks its log for new messages.
const POLL: Duration = Duration::from_millis(50);

/// A partition file following its log on a thread of its own; stops when dropped.
pub(crate) struct Follower {
    stop: Arc<AtomicBool>,
    progress: Progress,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// How far a follower has applied its log, and waiting for it to get somewhere.
#[derive(Clone)]
pub(crate) struct Progress {
    /// The log position the file holds through.
    applied: tokio::sync::watch::Receiver<u64>,
    /// Asks the thread to look at the log now rather than at its next poll (a reader
    /// waits for a position).
    nudge: std::sync::mpsc::SyncSender<()>,
}

impl Follower {
    /// Follows `log` into the file at `path`, which holds the log through message
    /// `through`. A log purged past the file (the replica fell behind its snapshots)
    /// sets `lost`: its readers answer no more.
    pub(crate) fn start(
        log: &PartitionLog,
        path: &Path,
        through: u64,
        lost: Arc<AtomicBool>,
    ) -> Result<Follower, ShardError> {
        let stop = Arc::<AtomicBool>::default();
        let stopped = Arc::clone(&stop);
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let (log, path): (PartitionLog, PathBuf) = (log.clone(), path.to_owned());
        let (applied_to, applied) = tokio::sync::watch::channel(through);
        let (nudge, nudged) = std::sync::mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("litescale-follow".into())
            .spawn(move || {
                let mut applied = through;
                while !stopped.load(Ordering::Relaxed) {
                    let _ = nudged.recv_timeout(POLL);
                    if stopped.load(Ordering::Relaxed) {
                        return;
                    }
                    match follow(&log, &conn, applied) {
                        Ok(at) => {
                            applied = at;
                            applied_to.send_replace(at);
                        }
                        Err(e) if e.sqlstate == PURGED => {
                            tracing::error!(file = %path.display(), error = %e.message, "this replica fell behind its log's snapshots and serves the partition no more: start it again to restore the latest snapshot");
                            lost.store(true, Ordering::Relaxed);
                            return;
                        }
                        Err(e) => tracing::warn!(file = %path.display(), error = %e.message, "following the partition's log; trying again"),
                    }
                }
            })?;
        Ok(Follower {
            stop,
            progress: Progress { applied, nudge },
            thread: Some(thread),
        })
    }

    pub(crate) fn progress(&self) -> &Progress {
        &self.progress
    }

    /// Stops following and waits until the thread has let the file go (a new primary
    /// writes it next).
    pub(crate) fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.progress.nudge.try_send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Progress {
    /// The log position the file holds through.
    pub(crate) fn position(&self) -> u64 {
        *self.applied.borrow()
    }

    /// Waits until the file holds the log through `position`, up to `timeout`.
    pub(crate) async fn reach(&self, position: u64, timeout: Duration) -> Result<(), ShardError> {
        let mut applied = self.applied.clone();
        if *applied.borrow() < position {
            let _ = self.nudge.try_send(());
        }
        match tokio::time::timeout(timeout, applied.wait_for(|&at| at >= position)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) => Err(ShardError::new(
                "57P03",
                "this replica stopped following the partition's log",
            )),
            Err(_) => Err(ShardError::new(
                "57014",
                format!(
                    "canceling statement: this replica did not reach log position {position} within {} s (it holds {})",
                    timeout.as_secs(),
                    self.position()
                ),
            )),
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Applies the log's whole commits after message `applied`; the last message applied.
fn follow(log: &PartitionLog, conn: &Connection, applied: u64) -> Result<u64, ShardError> {
    let last = log.last_sequence()?;
    if last <= applied {
        return Ok(applied);
    }
    let replayed = replay_commits(
        log,
        applied + 1,
        last,
        |_| true,
        |commit| write_pages(conn, commit),
    )?;
    Ok(replayed.whole.map_or(applied, |w| w.sequence))
}

/// One commit's pages, written in one transaction: a reader sees all or none of them.
fn write_pages(conn: &Connection, commit: &[Part]) -> Result<(), ShardError> {
    let Some(last) = commit.last().filter(|p| !p.is_mark()) else {
        return Ok(());
    };
    {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let written = (|| {
            let mut insert =
                conn.prepare_cached("INSERT INTO sqlite_dbpage (pgno, data) VALUES (?1, ?2)")?;
            for part in commit {
                for (number, image) in &part.images {
                    insert.execute((number, image))?;
                }
            }
            let pages: u32 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            if last.db_pages < pages {
                // A NULL page cuts the file there (the primary's shrank: a VACUUM).
                conn.execute(
                    "INSERT INTO sqlite_dbpage (pgno, data) VALUES (?1, NULL)",
                    [last.db_pages + 1],
                )?;
            }
            Ok(())
        })();
        match written {
            Ok(()) => conn.execute_batch("COMMIT"),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }?;
    Ok(())
}
