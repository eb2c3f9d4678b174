//! Work that spans partitions: taking partition writers without deadlocks, committing a
//! transaction across partitions (two-phase), merging a read's per-partition results.
//! It must not know a session's state or its statements: it is handed partitions,
//! transactions, rows and the ids of the sessions that wait.
//!
//! Order: `locks`, `commit` and `merge` stand apart.

pub(crate) mod commit;
pub(crate) mod locks;
pub(crate) mod merge;
