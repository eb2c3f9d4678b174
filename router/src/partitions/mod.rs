//! Partitioned databases: which partitions a statement runs on, a multi-row INSERT split
//! by partition, a read on every partition and how its results merge. No SQL is executed.
//!
//! `keys` (the key values a statement pins) ← `route`, `insert`; `scatter` stands alone.

pub(crate) mod insert;
mod keys;
pub(crate) mod route;
pub(crate) mod scatter;
