//! Point-in-time restore: a new database made of another's commits up to a time or a
//! log position: the latest snapshot before that point, then the log after it. The new
//! database's first open puts it on logs of its own.

use std::path::Path;

use chrono::{DateTime, Utc};
use litescale_config::Config;

use crate::directory::{partition_path, valid_name};
use crate::error::ShardError;
use crate::storage::replicated::engine::LogEngine;
use crate::storage::replicated::file::catch_up::from_snapshot;
use crate::storage::replicated::file::snapshot::Snapshots;
use crate::storage::replicated::log::{Logged, PartitionLog};

/// Where a restore stops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RestorePoint {
    /// The commits the engine stored at or before this time.
    Time(DateTime<Utc>),
    /// The commits whose last message is at or before this sequence of each partition's
    /// log (a database of one partition has one log).
    Position(u64),
}

impl std::str::FromStr for RestorePoint {
    type Err = String;

    /// A number is a position; anything else an RFC 3339 time (`2026-12-04T21:30:00Z`).
    fn from_str(s: &str) -> Result<RestorePoint, String> {
        if let Ok(position) = s.parse::<u64>() {
            return Ok(RestorePoint::Position(position));
        }
        DateTime::parse_from_rfc3339(s)
            .map(|t| RestorePoint::Time(t.with_timezone(&Utc)))
            .map_err(|e| format!("\"{s}\" is neither a log position nor an RFC 3339 time: {e}"))
    }
}

/// What a partition was restored from.
#[derive(Debug, Clone, Copy)]
pub struct Restored {
    /// The log position of the snapshot it started from (none: the log's start).
    pub snapshot: Option<u64>,
    /// The commits of the log replayed after it.
    pub commits: u64,
}

/// Restores `database` at `at` into the new database `into`; per partition, what it was
/// restored from.
pub fn restore(
    config: &Config,
    database: &str,
    at: RestorePoint,
    into: &str,
) -> Result<Vec<Restored>, ShardError> {
    let engine = LogEngine::connect(&config.storage, None)?;
    if !engine.has_database(database)? {
        return Err(ShardError::new(
            "3D000",
            format!("database \"{database}\" has no log in the storage engine"),
        ));
    }
    let dir = config.data_dir.join(into);
    if !valid_name(into) || engine.has_database(into)? || dir.exists() {
        return Err(ShardError::new(
            "42P04",
            format!("database \"{into}\" already exists or is not a valid name"),
        ));
    }
    std::fs::create_dir_all(&dir)?;
    let restored = restore_into(config, &engine, database, at, &dir);
    if restored.is_err() {
        // Nothing half made is left to be taken for a database.
        let _ = std::fs::remove_dir_all(&dir);
    }
    restored
}

fn restore_into(
    config: &Config,
    engine: &std::sync::Arc<LogEngine>,
    database: &str,
    at: RestorePoint,
    dir: &Path,
) -> Result<Vec<Restored>, ShardError> {
    let partitions = config
        .partition_map()
        .map_err(|e| ShardError::new("F0000", e.to_string()))?
        .count();
    let mut restored = Vec::with_capacity(partitions);
    for i in 0..partitions {
        let log = PartitionLog::open(engine, database, i)?;
        let (first, last) = log.ends()?;
        let before = |sequence: u64, time: DateTime<Utc>| match at {
            RestorePoint::Time(t) => time <= t,
            RestorePoint::Position(p) => sequence <= p,
        };
        let snapshot = Snapshots::of(&log)
            .list()?
            .into_iter()
            .rfind(|s| before(s.through, s.time));
        // Without a snapshot before the point the log must hold it from its start.
        if snapshot.is_none() && first > 1 {
            return Err(ShardError::new(
                "22023",
                format!(
                    "database \"{database}\" can be restored no further back than its oldest snapshot: its log is purged below position {first}"
                ),
            ));
        }
        let path: &Path = &partition_path(dir, i);
        let keep = |logged: &Logged| before(logged.sequence, logged.time);
        let replayed = from_snapshot(path, &log, snapshot.as_ref(), last, keep)?;
        restored.push(Restored {
            snapshot: snapshot.map(|s| s.through),
            commits: replayed.commits,
        });
    }
    Ok(restored)
}
