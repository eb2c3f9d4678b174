//! SQLite workers and the storage they attach to.
//!
//! A [`Partition`] is one SQLite file in WAL mode inside the storage directory, served by
//! exactly one writer connection (the only one that ever writes) and a pool of read-only
//! reader connections that never wait for the writer. Writers queue on an async lock, so
//! SQLITE_BUSY never reaches a client.
//!
//! This crate knows SQLite and files; it must not know about the Postgres wire protocol or
//! parse SQL: it runs the SQL the router produced and reports errors with their SQLSTATE.

pub mod arrays;
mod catalog;
mod durability;
mod engine;
mod error;
mod fence;
mod functions;
mod guard;
mod interrupt;
mod partition;
pub mod portable;
mod protocol;
mod redo;
mod remote;
mod storage;
mod supervisor;
mod txlog;
mod typecheck;
mod usage;
mod value;
pub mod worker;

pub use catalog::TypeCatalog;
pub use engine::result_too_large;
pub use error::ShardError;
pub use fence::FENCED;
pub use interrupt::Interrupter;
pub use partition::{Partition, ReadSnapshot, RowStream, SmallRead, Transaction, WriterLock};
pub use protocol::Role;
pub use redo::{Redo, Segment};
pub use remote::DirectWriter;
pub use storage::{Database, Storage};
pub use supervisor::{WorkerGroup, WorkerInfo};
pub use txlog::{Recovered, TxLog};
pub use usage::{Usage, UsageSnapshot};
pub use value::{ColumnMeta, Outcome, Rows, Value};
