//! Work across partitions: writer locks without deadlock, two-phase commit, merged reads.
//! It must not know a session's state or statements: it gets partitions, transactions, rows.
//!
//! Sessions appear only as the ids of those that hold or wait for a writer.
//!
//! Order: `locks`, `commit` and `merge` stand apart.

pub(crate) mod commit;
pub(crate) mod locks;
pub(crate) mod merge;
