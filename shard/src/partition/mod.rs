//! The partition API the proxy calls: reads, streams, snapshots, the writer lock, transactions.
//! It must not know how storage or a worker process works inside: it asks them through their rooms.
//!
//! Each call is a [`crate::messages::Request`] answered by the same engine code, in this
//! process or by a worker process, so the proxy sees one API; autocommit writes share a
//! group commit.
//!
//! Order inside: `answers`, `backend`, `threads` <- `reads`, `writer`; `writer` <-
//! `snapshot`, `group_commit`. Each file is one kind of `impl Partition` (and the types
//! it hands out); the partition itself is defined here.

mod answers;
mod backend;
mod group_commit;
mod reads;
mod snapshot;
mod threads;
mod writer;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::storage::WalSync;
use crate::usage::Usage;
use backend::Backend;
use group_commit::PendingWrite;

pub use reads::SmallRead;
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
    /// Group commit of the WAL's fsyncs (`storage.synchronous = "full"`).
    wal: Option<WalSync>,
    next_pending: std::sync::atomic::AtomicU64,
    /// Counts requests that may have committed, each counted by its writer before the
    /// writer is let go: a snapshot that saw the count unchanged, checked by the next
    /// holder of the writer, is still the latest data (see [`ReadSnapshot::is_current`]).
    commits: std::sync::atomic::AtomicU64,
}
