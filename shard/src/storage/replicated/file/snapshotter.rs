//! A primary's snapshots, taken off the commit path: once the commits it hands to the log
//! add up to `snapshot_every_mb` (or to the size of the last snapshot, if larger: a
//! snapshot is the whole file, so what it costs stays within what the log grew by), a
//! thread of its own waits for the log to hold the commit that asked for it, brings a
//! file beside the partition's up to the log's end, stores it
//! as a snapshot and prunes the snapshots and the log behind it. The file is a replay of the log, never a copy of the primary's
//! own, which may hold a commit the log has not acknowledged yet: a snapshot is, byte for
//! byte, the log's state at its position.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;

use crate::error::ShardError;
use crate::storage::replicated::file::catch_up::{
    CaughtUp, PURGED, Whole, catch_up, remove_file_and_wal, replay,
};
use crate::storage::replicated::file::snapshot::Snapshots;
use crate::storage::replicated::log::PartitionLog;

/// Asks a partition's snapshot thread for a snapshot as the log grows.
pub(crate) struct Snapshotter {
    /// The log message the snapshot asked for must hold through.
    wanted: mpsc::SyncSender<u64>,
    /// Bytes of log between snapshots.
    every: Arc<AtomicU64>,
    /// Bytes handed to the log since the last snapshot was asked for.
    handed: u64,
}

impl Snapshotter {
    /// Starts the snapshot thread of the partition whose file is at `partition`
    /// (`None` when `every_mb` is 0: no snapshots). It ends when the snapshotter is
    /// dropped, and takes none once `lost` is set.
    pub(crate) fn start(
        log: &PartitionLog,
        partition: &Path,
        every_mb: u64,
        kept: usize,
        lost: Arc<AtomicBool>,
    ) -> Result<Option<Snapshotter>, ShardError> {
        if every_mb == 0 {
            return Ok(None);
        }
        let mut path = partition.as_os_str().to_owned();
        path.push(".snapshot");
        let path = PathBuf::from(path);
        // A request while one is being taken waits; more are one.
        let (wanted, requests) = mpsc::sync_channel::<u64>(1);
        let log = log.clone();
        let least = every_mb * 1024 * 1024;
        let every = Arc::new(AtomicU64::new(least));
        let grown = Arc::clone(&every);
        std::thread::Builder::new()
            .name("litescale-snapshot".into())
            .spawn(move || {
                // The log message the snapshot file is known to hold through.
                let mut at = None;
                while let Ok(through) = requests.recv() {
                    if lost.load(Ordering::Relaxed) {
                        return;
                    }
                    let started = std::time::Instant::now();
                    appended(&log, through);
                    match take(&log, &path, kept, &mut at) {
                        Ok(Some(through)) => {
                            let size = std::fs::metadata(&path).map_or(0, |m| m.len());
                            grown.store(least.max(size), Ordering::Relaxed);
                            tracing::info!(
                                log = log.name(),
                                through,
                                bytes = size,
                                ms = started.elapsed().as_millis() as u64,
                                "snapshot stored, the log before it purged"
                            );
                        }
                        Ok(None) => {}
                        Err(e) => {
                            tracing::warn!(
                                log = log.name(),
                                error = %e.message,
                                "snapshot not taken (the next one is asked for after the next commits)"
                            );
                            // It may be cut short inside a commit: made anew next time.
                            let _ = remove_file_and_wal(&path);
                        }
                    }
                }
            })?;
        Ok(Some(Snapshotter {
            wanted,
            every,
            handed: 0,
        }))
    }

    /// Counts `bytes` handed to the log, to be its messages through `through`; asks for
    /// a snapshot once they add up.
    pub(crate) fn handed(&mut self, bytes: u64, through: u64) {
        self.handed += bytes;
        if self.handed < self.every.load(Ordering::Relaxed) {
            return;
        }
        self.handed = 0;
        let _ = self.wanted.try_send(through);
    }
}

/// Waits, a while at most, until `log` holds message `through`: the commit handed over
/// with it is appended after it was handed, and belongs in the snapshot it asked for.
/// Not reached (the log slow, or the primary deposed), the snapshot is of what is there.
fn appended(log: &PartitionLog, through: u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while log.last_sequence().is_ok_and(|last| last < through)
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Brings the snapshot file at `path` to the log's end and stores it; the position it
/// stored, or `None` when there was nothing new. `at`: where the file is known to be,
/// after the last snapshot this thread stored (its last commit may be purged from the
/// log since, so the file's own row can no longer be checked against it).
fn take(
    log: &PartitionLog,
    path: &Path,
    kept: usize,
    at: &mut Option<u64>,
) -> Result<Option<u64>, ShardError> {
    let known = at.take();
    let Some(whole) = forward(log, path, known)? else {
        // Nothing new since the last snapshot.
        *at = known;
        return Ok(None);
    };
    let snapshots = Snapshots::of(log);
    if snapshots
        .list()?
        .last()
        .is_some_and(|s| s.through >= whole.sequence)
    {
        *at = Some(whole.sequence);
        return Ok(None);
    }
    snapshots.upload(path, whole.sequence, whole.time)?;
    *at = Some(whole.sequence);
    if let Some(needed_from) = snapshots.prune(kept)? {
        log.purge_below(needed_from)?;
    }
    Ok(Some(whole.sequence))
}

/// The snapshot file brought to the log's end: replayed on from `at` when it is known,
/// caught up (checked, or rebuilt) otherwise; the last message it holds (`None`: nothing
/// new past `at`).
fn forward(log: &PartitionLog, path: &Path, at: Option<u64>) -> Result<Option<Whole>, ShardError> {
    if let Some(through) = at {
        let last = log.last_sequence()?;
        match replay(path, log, through + 1, last, |_| true) {
            Ok(replayed) => return Ok(replayed.whole),
            // Another primary's snapshots purged the log past this file.
            Err(e) if e.sqlstate == PURGED => {}
            Err(e) => return Err(e),
        }
    }
    Ok(match catch_up(path, log)? {
        CaughtUp::Through { whole, .. } => whole,
        CaughtUp::Unlogged => None,
    })
}
