//! Group commit of a partition's WAL. With `synchronous = "full"`, commits are made
//! without an fsync (SQLite's `synchronous=NORMAL`: the WAL frames are written) while the
//! writer is held; after letting the writer go, each commit waits for an fsync of the WAL
//! file that covers it, and one fsync covers every commit made before it began. The writer
//! is held for the statements only, not for the disk, and a busy partition pays one fsync
//! for many commits. Every acknowledged commit is still fsynced before its acknowledgement.
//!
//! What differs from a commit that fsyncs under the writer: another session may read a
//! commit in the moment between its write and its fsync; a power loss in that moment loses
//! a commit that was read but never acknowledged (a process crash loses nothing: the
//! frames are in the OS's page cache).

use std::fs::File;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use litescale_config::Synchronous;
use tokio::sync::{Mutex as AsyncMutex, watch};

use crate::error::ShardError;

/// Whether commits are made durable by group commit (see the module doc).
pub(crate) fn group_commit(synchronous: Synchronous) -> bool {
    synchronous == Synchronous::Full
}

/// The `synchronous` a partition's writer runs with: NORMAL under group commit (the
/// fsync is [`WalSync`]'s), else as configured.
pub(crate) fn writer_pragma(synchronous: Synchronous) -> &'static str {
    if group_commit(synchronous) {
        Synchronous::Normal.as_pragma()
    } else {
        synchronous.as_pragma()
    }
}

pub(crate) struct WalSync {
    wal: PathBuf,
    /// Commits made so far (their frames are in the WAL file).
    committed: AtomicU64,
    /// Commits known to be on disk.
    synced: watch::Sender<u64>,
    /// One fsync at a time; the ones waiting behind it are usually covered by it.
    syncing: AsyncMutex<()>,
    file: Mutex<Option<File>>,
    /// fsyncs done, for metrics and tests.
    fsyncs: AtomicU64,
}

impl WalSync {
    /// For the partition file at `db`: its WAL is `<db>-wal`.
    pub fn new(db: &std::path::Path) -> WalSync {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        WalSync {
            wal: PathBuf::from(wal),
            committed: AtomicU64::new(0),
            synced: watch::Sender::new(0),
            syncing: AsyncMutex::new(()),
            file: Mutex::new(None),
            fsyncs: AtomicU64::new(0),
        }
    }

    /// Counts a commit that just returned, while its writer is still held. The number it
    /// returns is what [`WalSync::wait`] waits for.
    pub fn committed(&self) -> u64 {
        self.committed.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Returns once commit `seq` is on disk.
    pub async fn wait(&self, seq: u64) -> Result<(), ShardError> {
        loop {
            if *self.synced.borrow() >= seq {
                return Ok(());
            }
            let _syncing = self.syncing.lock().await;
            if *self.synced.borrow() >= seq {
                return Ok(());
            }
            // Every commit counted by now has written its frames: this fsync covers them.
            let covered = self.committed.load(Ordering::SeqCst);
            let file = self.file.lock().unwrap_or_else(|e| e.into_inner()).take();
            let wal = self.wal.clone();
            let file = tokio::task::spawn_blocking(move || -> std::io::Result<File> {
                let file = match file {
                    Some(f) => f,
                    None => File::options().write(true).open(&wal)?,
                };
                file.sync_data()?;
                Ok(file)
            })
            .await
            .map_err(|e| ShardError::new("XX000", format!("WAL sync task failed: {e}")))?
            .map_err(|e| {
                ShardError::new(
                    "58030",
                    format!("could not make the commit durable (fsync of the WAL): {e}"),
                )
            })?;
            *self.file.lock().unwrap_or_else(|e| e.into_inner()) = Some(file);
            self.fsyncs.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("litescale_wal_fsyncs_total").increment(1);
            self.synced.send_if_modified(|synced| {
                let moved = covered > *synced;
                *synced = (*synced).max(covered);
                moved
            });
        }
    }

    /// Makes every commit so far durable now, on this thread (start-up recovery).
    pub fn sync_now(&self) -> Result<(), ShardError> {
        let covered = self.committed.load(Ordering::SeqCst);
        File::options().write(true).open(&self.wal)?.sync_data()?;
        self.synced
            .send_modify(|synced| *synced = (*synced).max(covered));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_commit_waits_for_an_fsync_that_began_after_it_and_one_fsync_serves_many() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("0.db");
        std::fs::write(dir.path().join("0.db-wal"), b"frames").unwrap();
        let wal = std::sync::Arc::new(WalSync::new(&db));
        let first = wal.committed();
        wal.wait(first).await.unwrap();
        assert_eq!(wal.fsyncs.load(Ordering::Relaxed), 1);
        // Already covered: no second fsync.
        wal.wait(first).await.unwrap();
        assert_eq!(wal.fsyncs.load(Ordering::Relaxed), 1);
        // Eight commits, then eight waits at once: far fewer fsyncs than commits.
        let seqs: Vec<u64> = (0..8).map(|_| wal.committed()).collect();
        let waits = seqs.into_iter().map(|seq| {
            let wal = std::sync::Arc::clone(&wal);
            tokio::spawn(async move { wal.wait(seq).await })
        });
        for wait in waits.collect::<Vec<_>>() {
            wait.await.unwrap().unwrap();
        }
        let fsyncs = wal.fsyncs.load(Ordering::Relaxed);
        assert!((2..=3).contains(&fsyncs), "{fsyncs} fsyncs");
    }
}
