//! The partition API the proxy calls: reads, streams, snapshots, the writer lock, transactions.
//! It must not know how storage or a worker process works inside: it asks them through their rooms.
//!
//! Each call is a [`crate::messages::Request`] answered by the same engine code, in this
//! process or by a worker process, so the proxy sees one API; autocommit writes share a
//! group commit.
//!
//! Order inside: `peer_link` <- `backend`; `answers`, `backend`, `threads` <- `reads`,
//! `writer`; `writer` <- `snapshot`, `group_commit`, `forwarding`. Each file is one kind of `impl Partition` (and the types
//! it hands out); the partition itself is defined here.

mod answers;
mod backend;
mod forwarding;
mod group_commit;
mod peer_link;
mod reads;
mod snapshot;
mod threads;
mod writer;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::storage::{LogAcks, WalSync};
use crate::usage::Usage;
use backend::Backend;
use group_commit::PendingWrite;

pub use reads::SmallRead;

/// A commit made durable after its writer is let go (so the next transaction writes
/// meanwhile), counted while the writer is held.
enum Durability {
    /// One fsync of the WAL covers every commit counted before it began.
    Fsync(WalSync),
    /// The partition's log acknowledges commits in order (replicated storage).
    Log(Arc<LogAcks>),
}

impl Durability {
    /// The number of the commit just made on the writer, still held.
    fn committed(&self) -> u64 {
        match self {
            Durability::Fsync(wal) => wal.committed(),
            Durability::Log(acks) => acks.committed(),
        }
    }

    async fn wait(&self, commit: u64) -> Result<(), crate::error::ShardError> {
        match self {
            Durability::Fsync(wal) => wal.wait(commit).await,
            Durability::Log(acks) => acks.wait(commit).await,
        }
    }

    /// Blocks until the commit just made on the writer is durable (recovery, which runs
    /// before the database serves, and forgets what it replayed only after this).
    fn sync_now(&self) -> Result<(), crate::error::ShardError> {
        match self {
            Durability::Fsync(wal) => {
                wal.committed();
                wal.sync_now()
            }
            // The appender runs on the engine's own runtime: nothing here waits on it.
            Durability::Log(acks) => futures::executor::block_on(acks.wait(acks.committed())),
        }
    }
}
pub(crate) use forwarding::ServedWriter;
pub(crate) use forwarding::take_over_when_free;
pub use snapshot::ReadSnapshot;
pub use writer::{Transaction, WriterLock};

/// One partition: a SQLite file in WAL mode, its single writer (the primary) and its
/// readers, served in this process or by worker processes.
pub struct Partition {
    path: PathBuf,
    usage: Arc<Usage>,
    backend: Backend,
    /// Autocommit writes waiting for the writer (group commit, see `write_grouped`).
    pending: Mutex<Vec<PendingWrite>>,
    /// What a commit waits for after the writer is let go: the WAL's fsync (group
    /// commit, `storage.synchronous = "full"`) or the log's acknowledgement.
    /// Empty on a replica, and on a peer until it takes the partition over.
    durability: std::sync::OnceLock<Durability>,
    next_pending: std::sync::atomic::AtomicU64,
    /// Counts requests that may have committed, each counted by its writer before the
    /// writer is let go: a snapshot that saw the count unchanged, checked by the next
    /// holder of the writer, is still the latest data (see [`ReadSnapshot::is_current`]).
    commits: std::sync::atomic::AtomicU64,
}
