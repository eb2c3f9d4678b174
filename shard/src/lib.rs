//! The shard: SQLite partitions in WAL mode, the engine that runs SQL on them, worker processes.
//! It must not know the Postgres wire protocol or parse SQL: it runs the router's SQL and reports
//! errors with their SQLSTATE.
//!
//! A [`Partition`] is one SQLite file in WAL mode inside the storage directory, served by
//! exactly one writer connection (the only one that ever writes) and a pool of read-only
//! reader connections that never wait for the writer. Writers queue on an async lock, so
//! SQLITE_BUSY never reaches a client.
//!
//! # Layout
//!
//! Rooms in dependency order; each imports only from those before it:
//! 1. Shared leaves: `value` (SQLite values and results), `error` (`ShardError`),
//!    `interrupt` (cancel), `directory` (the storage directory's names), `messages` (what a
//!    partition asks of its SQLite and what it answers), `usage` (metering),
//!    `row_stream` (a streamed result).
//! 2. `engine/`: what runs on one SQLite connection: statements, reads, Postgres' SQL
//!    additions (`engine/sql/`), the guard, SQLite errors as SQLSTATEs.
//! 3. `storage/`: what a partition keeps durable: its files, the fence, group commit of
//!    fsyncs, the cross-partition transaction log and redo, export/import. Its interface
//!    to a partition is documented in `storage/mod.rs`.
//! 4. `workers/`: worker processes: framing, links, the supervisor, the worker process.
//! 5. `partition/`: the partition API the proxy calls, in process or through workers.
//! 6. `databases`: `Storage`, the open databases: opened, recovered, created, dropped.
//! 7. `peers`: the writes other litescale processes forward to this one's primaries.

mod databases;
mod directory;
mod engine;
mod error;
mod interrupt;
mod messages;
mod partition;
mod peers;
mod row_stream;
mod storage;
mod usage;
mod value;
mod workers;

pub use databases::{Database, Storage};
pub use engine::privileges::statement_as_role;
pub use engine::sql::arrays;
pub use engine::sql::catalog::TypeCatalog;
pub use engine::sql::datetime::{SessionZone, interval_output};
pub use engine::sql::functions::parse_bool;
pub use engine::sql::json::value as json;
pub use engine::sql::numeric::{Numeric, average as numeric_average};
pub use engine::statements::result_too_large;
pub use error::{ErrorFields, ShardError};
pub use interrupt::Interrupter;
pub use messages::Role;
pub use partition::{Partition, ReadSnapshot, SmallRead, Transaction, WriterLock};
pub use peers::{knock, serve_peers};
pub use row_stream::RowStream;
pub use storage::portable;
pub use storage::{FENCED, Recovered, Redo, RestorePoint, Restored, Segment, TxLog, restore};
pub use usage::{Usage, UsageSnapshot};
pub use value::{ColumnMeta, Outcome, Rows, Value};
pub use workers::worker;
pub use workers::{DirectWriter, WorkerGroup, WorkerInfo};
