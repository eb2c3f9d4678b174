//! Point-in-time restore: a new database made of another's commits up to a time or a
//! log position, replayed from its partitions' logs. The new database's first open puts
//! it on logs of its own.

use std::path::Path;

use chrono::{DateTime, Utc};
use litescale_config::Config;

use crate::directory::{partition_path, valid_name};
use crate::error::ShardError;
use crate::storage::replicated::catch_up::replay;
use crate::storage::replicated::engine::LogEngine;
use crate::storage::replicated::log::PartitionLog;

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

/// Commits restored per partition.
pub fn restore(
    config: &Config,
    database: &str,
    at: RestorePoint,
    into: &str,
) -> Result<Vec<u64>, ShardError> {
    let engine = LogEngine::connect(&config.storage)?;
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
    let partitions = config
        .partition_map()
        .map_err(|e| ShardError::new("F0000", e.to_string()))?
        .count();
    let mut restored = Vec::with_capacity(partitions);
    for i in 0..partitions {
        let log = PartitionLog::open(&engine, database, i)?;
        let last = log.last_sequence()?;
        let path: &Path = &partition_path(&dir, i);
        restored.push(replay(path, &log, 1, last, |logged| match at {
            RestorePoint::Time(t) => logged.time <= t,
            RestorePoint::Position(p) => logged.sequence <= p,
        })?);
    }
    Ok(restored)
}
