//! A replica's partition file following its log while its readers read it: each commit's
//! pages are written through SQLite's `sqlite_dbpage` in one transaction, so a reader
//! sees a commit whole or not at all (a catch-up's replay writes pages into a file
//! nothing has open). The file stays, page for page, the log's state.

use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::Connection;

use crate::error::ShardError;
use crate::storage::replicated::entry::Part;
use crate::storage::replicated::file::catch_up::{
    CaughtUp, PURGED, replay_commits, stamped, unlogged,
};
use crate::storage::replicated::file::frames::database_page_size;
use crate::storage::replicated::file::snapshot::Snapshots;
use crate::storage::replicated::log::PartitionLog;

/// How often a replica asks its log for new messages.
const POLL: Duration = Duration::from_millis(50);
/// How long a follower tries to read past a gap in its log before it gives the file up.
const GIVE_UP: Duration = Duration::from_secs(10);

/// A partition file following its log on a thread of its own; stops when dropped.
pub(crate) struct Follower {
    stop: Arc<AtomicBool>,
    progress: Progress,
    thread: Option<std::thread::JoinHandle<Stopped>>,
}

/// A follower's file once it stopped following, still open to its readers: the
/// connection it wrote through and the log position it holds through.
pub(crate) struct Stopped {
    conn: Connection,
    path: PathBuf,
    applied: u64,
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
    /// `through`. A log purged past the file (the follower fell behind a snapshot) is
    /// caught up from the latest snapshot, written into the file in one transaction;
    /// only when that fails is `lost` set: its readers answer no more.
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
        let schema_changes = Arc::clone(log.engine().schema_changes());
        let (log, path): (PartitionLog, PathBuf) = (log.clone(), path.to_owned());
        let (applied_to, applied) = tokio::sync::watch::channel(through);
        let (nudge, nudged) = std::sync::mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("litescale-follow".into())
            .spawn(move || {
                let mut applied = through;
                let mut schema = schema_version(&conn);
                // Since when following has failed for want of the log's messages.
                let mut missing_since: Option<std::time::Instant> = None;
                while !stopped.load(Ordering::Relaxed) {
                    let _ = nudged.recv_timeout(POLL);
                    if stopped.load(Ordering::Relaxed) {
                        break;
                    }
                    let followed = log
                        .last_sequence()
                        .and_then(|last| follow_or_restore(&log, &conn, &path, applied, last));
                    match followed {
                        Ok(at) => {
                            missing_since = None;
                            if at != applied {
                                let now = schema_version(&conn);
                                if now != schema {
                                    schema = now;
                                    schema_changes.fetch_add(1, Ordering::SeqCst);
                                }
                            }
                            applied = at;
                            applied_to.send_replace(at);
                        }
                        // A read that skipped messages (an engine electing) is read again
                        // for a while before the file is given up.
                        Err(e) if e.sqlstate == PURGED && missing_since.get_or_insert_with(std::time::Instant::now).elapsed() < GIVE_UP => {
                            tracing::warn!(file = %path.display(), error = %e.message, "the log's next messages cannot be read yet; trying again");
                        }
                        Err(e) if e.sqlstate == PURGED => {
                            tracing::error!(file = %path.display(), error = %e.message, "this file fell behind its log's snapshots and could not be restored from one; it serves the partition no more: start the process again");
                            lost.store(true, Ordering::Relaxed);
                            break;
                        }
                        Err(e) => tracing::warn!(file = %path.display(), error = %e.message, "following the partition's log; trying again"),
                    }
                }
                Stopped {
                    conn,
                    path,
                    applied,
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
    /// writes it next); `None` if the thread died.
    pub(crate) fn stop(mut self) -> Option<Stopped> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.progress.nudge.try_send(());
        self.thread.take().and_then(|thread| thread.join().ok())
    }
}

impl Stopped {
    /// Brings the file to the log's end in place, its readers reading on: the log
    /// after it applied commit by commit, or, the log purged past it, the latest
    /// snapshot written into it first. Never a file made anew beside it (as a catch-up
    /// of a closed file may): readers already open would go on reading the old one.
    pub(crate) fn catch_up(&mut self, log: &PartitionLog) -> Result<CaughtUp, ShardError> {
        let (first, last) = log.ends()?;
        if unlogged(log, first, last, stamped(&self.conn)?.is_some())? {
            fold_wal_live(&self.conn)?;
            return Ok(CaughtUp::Unlogged);
        }
        let at = follow_or_restore(log, &self.conn, &self.path, self.applied, last)?;
        self.applied = follow_through(log, &self.conn, at, last)?;
        Ok(CaughtUp::Through {
            end: last,
            whole: None,
        })
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

/// Folds the WAL into the file while its readers read: an unlogged file is shipped whole,
/// read from the file itself, with its first commit. A reader holding the checkpoint up is
/// waited for a while.
fn fold_wal_live(conn: &Connection) -> Result<(), ShardError> {
    for _ in 0..250 {
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        if busy == 0 {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(ShardError::new(
        "55006",
        "the partition's readers kept its WAL from being folded into its file",
    ))
}

/// SQLite's count of the file's schema changes (its header's schema cookie).
fn schema_version(conn: &Connection) -> Option<i64> {
    conn.query_row("PRAGMA schema_version", [], |r| r.get(0))
        .ok()
}

/// Applies the log's whole commits after message `applied` through message `last`, or,
/// the log purged past them, writes the latest snapshot into the file; the last message
/// the file then holds.
fn follow_or_restore(
    log: &PartitionLog,
    conn: &Connection,
    path: &Path,
    applied: u64,
    last: u64,
) -> Result<u64, ShardError> {
    match follow_through(log, conn, applied, last) {
        Err(e) if e.sqlstate == PURGED => {
            tracing::warn!(file = %path.display(), applied, "the log was purged past this file: writing the latest snapshot into it");
            restore_live(log, conn, path)
        }
        followed => followed,
    }
}

/// Applies the log's whole commits after message `applied` through message `last`; the
/// last message applied.
fn follow_through(
    log: &PartitionLog,
    conn: &Connection,
    applied: u64,
    last: u64,
) -> Result<u64, ShardError> {
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
    let images = commit
        .iter()
        .flat_map(|part| part.images.iter().map(|(n, image)| Ok((*n, image.clone()))));
    write_in_one_transaction(conn, images, last.db_pages)
}

/// The file behind the log's purge: the latest snapshot's pages written into it in one
/// transaction (its readers see it jump forward whole). Answers the log position the
/// file holds through then.
fn restore_live(log: &PartitionLog, conn: &Connection, path: &Path) -> Result<u64, ShardError> {
    let snapshots = Snapshots::of(log);
    let snapshot = snapshots
        .list()?
        .pop()
        .ok_or_else(|| ShardError::new(PURGED, "the log is purged and has no snapshot"))?;
    let mut downloaded = path.as_os_str().to_owned();
    downloaded.push(".snapshot");
    let downloaded = PathBuf::from(downloaded);
    snapshots.download(&snapshot, &downloaded)?;
    let written = (|| {
        let mut file = std::fs::File::open(&downloaded)?;
        let mut header = [0u8; 100];
        file.read_exact(&mut header)?;
        let page_size = database_page_size(&header);
        let db_pages = u32::try_from(file.metadata()?.len() / u64::from(page_size))
            .map_err(|_| ShardError::new("54000", "the snapshot has too many pages"))?;
        file.seek(std::io::SeekFrom::Start(0))?;
        let pages = (1..=db_pages).map(|number| {
            let mut image = vec![0u8; page_size as usize];
            file.read_exact(&mut image)?;
            Ok((number, image))
        });
        write_in_one_transaction(conn, pages, db_pages)
    })();
    let _ = std::fs::remove_file(&downloaded);
    written.map(|()| snapshot.through)
}

/// Writes `pages` through `sqlite_dbpage` in one transaction, the file then `db_pages`
/// long.
fn write_in_one_transaction(
    conn: &Connection,
    pages: impl Iterator<Item = Result<(u32, Vec<u8>), ShardError>>,
    db_pages: u32,
) -> Result<(), ShardError> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let written = (|| {
        let mut insert =
            conn.prepare_cached("INSERT INTO sqlite_dbpage (pgno, data) VALUES (?1, ?2)")?;
        for page in pages {
            let (number, image) = page?;
            insert.execute((number, image))?;
        }
        let pages: u32 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        if db_pages < pages {
            // A NULL page cuts the file there (the primary's shrank: a VACUUM).
            conn.execute(
                "INSERT INTO sqlite_dbpage (pgno, data) VALUES (?1, NULL)",
                [db_pages + 1],
            )?;
        }
        Ok(())
    })();
    match written {
        Ok(()) => Ok(conn.execute_batch("COMMIT")?),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}
