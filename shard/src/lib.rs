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
mod error;
mod functions;
mod guard;
mod interrupt;
mod partition;
pub mod portable;
mod redo;
mod storage;
mod txlog;
mod usage;
mod value;

pub use catalog::TypeCatalog;
pub use error::ShardError;
pub use interrupt::Interrupter;
pub use partition::{Partition, RowStream, Transaction, WriterLock};
pub use redo::{Redo, Segment};
pub use storage::{Database, Storage};
pub use txlog::{Recovered, TxLog};
pub use usage::{Usage, UsageSnapshot};
pub use value::{ColumnMeta, Outcome, Rows, Value};
