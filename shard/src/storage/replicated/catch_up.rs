//! A local partition file brought to the state of its log before anything opens it: kept
//! and replayed forward when it is a state the log holds, rebuilt from the log's start
//! when it is not (a commit the log never took, a log another primary moved on). The same
//! replay, stopped at a point, is point-in-time restore.
//!
//! Each commit writes, in its own transaction, the row of `_litescale_log` that names it:
//! the sequence its first part was appended at and its id. A file is a state of the log if
//! the log's message at that sequence carries that id.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension};

use crate::engine::guard::as_litescale;
use crate::error::ShardError;
use crate::storage::replicated::entry::Part;
use crate::storage::replicated::log::{Logged, PartitionLog};

pub(crate) const POSITION_TABLE: &str = "_litescale_log";

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
    let Some(conn) = fold_wal(path)? else {
        return Ok(None);
    };
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
    /// The file is the log's state through this message.
    Through(u64),
}

/// Brings the partition file at `path` to the state of `log`.
pub(crate) fn catch_up(path: &Path, log: &PartitionLog) -> Result<CaughtUp, ShardError> {
    let last = log.last_sequence()?;
    let position = position(path)?;
    // A log of primaries' marks alone holds no commit: an existing file is the partition.
    if last == 0 || (position.is_none() && !holds_any_commit(log, last)?) {
        fold_wal(path)?;
        return Ok(CaughtUp::Unlogged);
    }
    let from = match position {
        Some((first, id)) if first <= last && holds_commit(log, first, last, id)? => first,
        local => {
            if local.is_some() || path.exists() {
                tracing::warn!(
                    file = %path.display(),
                    "the local file is not a state of the partition's log: rebuilt from the log"
                );
            }
            remove_file_and_wal(path)?;
            1
        }
    };
    let started = std::time::Instant::now();
    let applied = replay(path, log, from, last, |_| true)?;
    tracing::info!(
        file = %path.display(),
        from, last, commits = applied,
        ms = started.elapsed().as_millis() as u64,
        "partition caught up with its log"
    );
    Ok(CaughtUp::Through(last))
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

fn remove_file_and_wal(path: &Path) -> Result<(), ShardError> {
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

/// Applies the log's commits from message `from` through `to` to the file at `path`
/// (which nothing has open), each only once its last part is read and only while `keep`
/// says so of its last message; returns how many it applied.
pub(crate) fn replay(
    path: &Path,
    log: &PartitionLog,
    from: u64,
    to: u64,
    mut keep: impl FnMut(&Logged) -> bool,
) -> Result<u64, ShardError> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)?;
    let mut commit: Vec<Part> = Vec::new();
    let mut applied = 0;
    log.read(from, to, |logged| {
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
            apply(&file, &commit)?;
            commit.clear();
            applied += 1;
        }
        Ok(true)
    })?;
    file.sync_all()?;
    Ok(applied)
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
