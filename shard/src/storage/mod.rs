//! Storage: what a partition keeps durable (files, fence, fsyncs, transaction log); export/import.
//! It must not know worker processes or how a partition is served: it opens connections for anyone.
//!
//! It holds a partition's SQLite file and who may write it, the fsync its commits wait for,
//! the log of cross-partition transactions, and the export and import of a database as one
//! plain SQLite file.
//!
//! # The interface a partition uses
//!
//! What a partition needs from its storage is this short list, re-exported below; the
//! rest of the room is behind it:
//! - the SQLite files: `open_reader` for a reader; `Writer::open` for the primary's
//!   connection, or `Standby::open` then `Standby::promote` for a replica ready to take
//!   over;
//! - the fence: becoming a `Writer` elects it (`ELECTION_WAIT`), and every write
//!   transaction it begins checks that no newer primary exists, else fails with `FENCED`;
//! - durable commit: `WalSync` numbers each commit (`committed`) and returns once one is
//!   on disk (`wait`); one fsync covers every commit counted before it (group commit,
//!   when `group_commit` says the configured sync wants it);
//! - the transaction log's decisions: `TxLog` (prepare, decide, forget; `recover` on each
//!   `Participant` at open) and `finish_decided_parts` for a new primary's catch-up.
//!
//! These are plain types and functions, not a trait. Replicated storage (`replicated`,
//! issue 20) keeps the same list and adds to the writer: the fence and durable commit of
//! a partition on a log (`attach`, then a `Writer` whose commits are appended to the log
//! before they return); the local file is then a cache.
//!
//! Order inside: `durability` <- `open`; `fence` <- `replicated`; `commit_records`,
//! `fence`, `open`, `redo`, `replicated` <- `writer` <- `txlog`; `portable` stands alone.

mod commit_records;
mod durability;
mod fence;
mod open;
pub mod portable;
mod redo;
mod replicated;
mod txlog;
mod writer;

pub(crate) use durability::{WalSync, group_commit};
pub use fence::FENCED;
pub(crate) use fence::{ELECTION_WAIT, read_epoch};
pub(crate) use open::open_reader;
pub use redo::{Redo, Segment};
pub(crate) use replicated::{
    Attached, Follower, Following, Lease, LogAcks, LogEngine, OnLog, Progress, Takeover, attach,
    attach_or_follow, delete_database, follow, transaction_log,
};
pub use replicated::{RestorePoint, Restored, restore};
pub(crate) use txlog::{Participant, SettledPart, finish_decided_parts};
pub use txlog::{Recovered, TxLog};
pub(crate) use writer::{Standby, Writer};
