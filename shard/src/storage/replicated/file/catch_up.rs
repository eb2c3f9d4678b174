//! A local partition file brought to the state of its log before anything opens it: kept
//! and replayed forward when it is a state the log holds, rebuilt when it is not (a commit
//! the log never took, a log another primary moved on, a log purged past it) from the
//! latest snapshot and the log after it. The same replay, stopped at a point, is
//! point-in-time restore.
//!
//! Each commit writes, in its own transaction, the row of `_litescale_log` that names it:
//! the sequence its first part was appended at and its id. A file is a state of the log if
//! the log's message at that sequence carries that id.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};

use crate::engine::guard::as_litescale;
use crate::error::ShardError;
use crate::storage::replicated::entry::Part;
use crate::storage::replicated::file::snapshot::{Snapshot, Snapshots};
use crate::storage::replicated::log::{Logged, PartitionLog, purged};

pub(crate) const POSITION_TABLE: &str = "_litescale_log";

pub(crate) use crate::storage::replicated::log::PURGED;

/// Writes, inside the commit's transaction, which log message the commit starts at.
pub(crate) fn stamp(
    conn: &Connection,
    first_sequence: u64,
    commit_id: u64,
) -> Result<(), ShardError> {
    let values = [first_sequence as i64, commit_id as i64];
    as_litescale(|| {
        // The row exists after a partition's first commit on the log: one cached UPDATE.
        let updated = conn
            .prepare_cached(&format!(
                "UPDATE {POSITION_TABLE} SET first_sequence = ?1, commit_id = ?2"
            ))
            .and_then(|mut update| update.execute(values));
        match updated {
            Ok(1) => Ok(()),
            _ => {
                conn.execute_batch(&format!(
                    "CREATE TABLE IF NOT EXISTS {POSITION_TABLE} (first_sequence INTEGER NOT NULL, commit_id INTEGER NOT NULL);
                     DELETE FROM {POSITION_TABLE};"
                ))?;
                conn.execute(
                    &format!("INSERT INTO {POSITION_TABLE} VALUES (?1, ?2)"),
                    values,
                )
                .map(drop)
            }
        }
    })?;
    Ok(())
}

/// The last commit a file holds, after folding its WAL into it; `None` for no file or a
/// file that never held a logged commit.
fn position(path: &Path) -> Result<Option<(u64, u64)>, ShardError> {
    match fold_wal(path)? {
        Some(conn) => stamped(&conn),
        None => Ok(None),
    }
}

/// The last commit the file open on `conn` holds: the log message it starts at and its
/// id (`None`: it never held a logged commit).
pub(crate) fn stamped(conn: &Connection) -> Result<Option<(u64, u64)>, ShardError> {
    let has_table: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = ?1)",
        [POSITION_TABLE],
        |r| r.get(0),
    )?;
    if !has_table {
        return Ok(None);
    }
    let row: Option<(i64, i64)> = conn
        .query_row(
            &format!("SELECT first_sequence, commit_id FROM {POSITION_TABLE}"),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(row.map(|(s, id)| (s as u64, id as u64)))
}

/// The file at `path` with its WAL folded in, open; `None` if there is no file.
fn fold_wal(path: &Path) -> Result<Option<Connection>, ShardError> {
    if !path.exists() {
        return Ok(None);
    }
    let conn = Connection::open(path)?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(Some(conn))
}

/// What a caught-up file holds.
pub(crate) enum CaughtUp {
    /// The log was empty: the file (if any, its WAL folded in) is the partition, not
    /// yet in the log.
    Unlogged,
    /// The file is the log's state through message `end` (a commit whose parts stop
    /// short at the end is left out); `whole` is the last message of the last commit (or
    /// mark) it holds.
    Through { end: u64, whole: Option<Whole> },
}

/// The last message of a commit (or a mark) a file holds whole.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Whole {
    pub sequence: u64,
    /// When the engine stored it.
    pub time: DateTime<Utc>,
}

/// Brings the partition file at `path` to the state of `log`.
pub(crate) fn catch_up(path: &Path, log: &PartitionLog) -> Result<CaughtUp, ShardError> {
    let (first, last) = log.ends()?;
    let position = position(path)?;
    if unlogged(log, first, last, position.is_some())? {
        fold_wal(path)?;
        return Ok(CaughtUp::Unlogged);
    }
    let started = std::time::Instant::now();
    let (from, replayed) = match position {
        // A commit purged from the log is in a snapshot, which the file is rebuilt from.
        Some((start, id))
            if first <= start && start <= last && holds_commit(log, start, last, id)? =>
        {
            (start, replay(path, log, start, last, |_| true)?)
        }
        local => {
            if local.is_some() || path.exists() {
                tracing::warn!(
                    file = %path.display(),
                    "the local file is not a state of the partition's log: rebuilt from its latest snapshot and the log"
                );
            }
            rebuild(path, log, last)?
        }
    };
    tracing::info!(
        file = %path.display(),
        from, last, commits = replayed.commits,
        ms = started.elapsed().as_millis() as u64,
        "partition caught up with its log"
    );
    Ok(CaughtUp::Through {
        end: last,
        whole: replayed.whole,
    })
}

/// Makes the file at `path` anew: the latest snapshot (if any), then the log after it
/// through `last`. A snapshot deleted, or the log purged, while this reads is read again.
fn rebuild(path: &Path, log: &PartitionLog, last: u64) -> Result<(u64, Replayed), ShardError> {
    let mut attempts = 0;
    loop {
        remove_file_and_wal(path)?;
        let snapshot = Snapshots::of(log).list()?.pop();
        let rebuilt = from_snapshot(path, log, snapshot.as_ref(), last, |_| true);
        match rebuilt {
            Err(e) if e.sqlstate == PURGED && attempts < 3 => attempts += 1,
            Err(e) => return Err(e),
            Ok(replayed) => {
                let from = snapshot.map_or(1, |s| s.through + 1);
                return Ok((from, replayed));
            }
        }
    }
}

/// Writes `snapshot` (none: an empty file) to `path` and replays the log after it
/// through `to`, while `keep` says so.
pub(crate) fn from_snapshot(
    path: &Path,
    log: &PartitionLog,
    snapshot: Option<&Snapshot>,
    to: u64,
    keep: impl FnMut(&Logged) -> bool,
) -> Result<Replayed, ShardError> {
    let from = match snapshot {
        Some(snapshot) => {
            Snapshots::of(log).download(snapshot, path).map_err(|e| {
                // The snapshot may have been deleted after it was listed: listed again.
                ShardError::new(PURGED, e.message)
            })?;
            snapshot.through + 1
        }
        None => 1,
    };
    let mut replayed = replay(path, log, from, to, keep)?;
    if replayed.whole.is_none() {
        replayed.whole = snapshot.map(|s| Whole {
            sequence: s.through,
            time: s.time,
        });
    }
    Ok(replayed)
}

/// Whether a file is the partition rather than a state of its log, the log (messages
/// `first` through `last`) holding no commit: a log of primaries' marks alone, and the
/// file `stamped` by none. A purged log held commits (a snapshot has them).
pub(crate) fn unlogged(
    log: &PartitionLog,
    first: u64,
    last: u64,
    stamped: bool,
) -> Result<bool, ShardError> {
    Ok(last == 0 || (!stamped && first <= 1 && !holds_any_commit(log, last)?))
}

/// Whether any message through `last` is a commit (not a primary's mark).
fn holds_any_commit(log: &PartitionLog, last: u64) -> Result<bool, ShardError> {
    let mut any = false;
    log.read(1, last, |logged| {
        any = !Part::decode(&logged.payload)?.is_mark();
        Ok(!any)
    })?;
    Ok(any)
}

/// Whether the log holds commit `id` whole, starting at message `first`: a primary that
/// died while appending a commit's parts left a file holding a commit the log has only
/// part of.
fn holds_commit(log: &PartitionLog, first: u64, last: u64, id: u64) -> Result<bool, ShardError> {
    let mut whole = false;
    log.read(first, last, |logged| {
        let part = Part::decode(&logged.payload)?;
        whole = part.commit_id == id && part.last;
        Ok(part.commit_id == id && !part.last)
    })?;
    Ok(whole)
}

pub(crate) fn remove_file_and_wal(path: &Path) -> Result<(), ShardError> {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(&name) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// What a replay applied.
pub(crate) struct Replayed {
    pub commits: u64,
    /// The last message of the last commit (or mark) applied.
    pub whole: Option<Whole>,
}

/// Applies the log's commits from message `from` through `to` to the file at `path`
/// (which nothing has open), each only once its last part is read and only while `keep`
/// says so of its last message. A log that no longer holds message `from` (purged below
/// a snapshot) is a PURGED error.
pub(crate) fn replay(
    path: &Path,
    log: &PartitionLog,
    from: u64,
    to: u64,
    keep: impl FnMut(&Logged) -> bool,
) -> Result<Replayed, ShardError> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)?;
    let replayed = replay_commits(log, from, to, keep, |commit| apply(&file, commit))?;
    file.sync_all()?;
    Ok(replayed)
}

/// Hands `apply` each whole commit of the log from message `from` through `to` (its parts,
/// once its last is read), while `keep` says so of its last message.
pub(crate) fn replay_commits(
    log: &PartitionLog,
    from: u64,
    to: u64,
    mut keep: impl FnMut(&Logged) -> bool,
    mut apply: impl FnMut(&[Part]) -> Result<(), ShardError>,
) -> Result<Replayed, ShardError> {
    let mut commit: Vec<Part> = Vec::new();
    let mut replayed = Replayed {
        commits: 0,
        whole: None,
    };
    let mut next = from;
    log.read(from, to, |logged| {
        // An ordered consumer started over after a reset may begin before the message
        // asked for: what comes before it is skipped.
        if next == from && logged.sequence < from {
            return Ok(true);
        }
        if next == from && logged.sequence != from {
            return Err(purged(log.name(), from, logged.sequence));
        }
        next = logged.sequence + 1;
        let part = Part::decode(&logged.payload)?;
        // A commit's parts are consecutive: another id means the one before never ended
        // (its primary died between parts) and is not applied.
        if commit
            .first()
            .is_some_and(|p| p.commit_id != part.commit_id)
        {
            commit.clear();
        }
        let last = part.last;
        commit.push(part);
        if last {
            if !keep(&logged) {
                return Ok(false);
            }
            apply(&commit)?;
            commit.clear();
            replayed.commits += 1;
            replayed.whole = Some(Whole {
                sequence: logged.sequence,
                time: logged.time,
            });
        }
        Ok(true)
    })?;
    Ok(replayed)
}

fn apply(file: &File, parts: &[Part]) -> Result<(), ShardError> {
    let Some(last) = parts.last().filter(|p| !p.is_mark()) else {
        return Ok(());
    };
    for part in parts {
        for (number, image) in &part.images {
            file.write_all_at(image, u64::from(number - 1) * u64::from(part.page_size))?;
        }
    }
    file.set_len(u64::from(last.db_pages) * u64::from(last.page_size))?;
    Ok(())
}
