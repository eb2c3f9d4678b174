//! Partitioned databases: which partitions a statement runs on, a multi-row INSERT split
//! by partition, a read on every partition and how its results merge. Knows the partition
//! map (from the config) and Bind's values, never a partition's data or SQLite.
//!
//! `keys` (the key values a statement pins) ← `route`, `insert`; `scatter` stands alone.

pub(crate) mod insert;
mod keys;
pub(crate) mod route;
pub(crate) mod scatter;
