//! Postgres objects SQLite has none of, as the shard keeps them (shard engine/objects/):
//! sequences (calls of its sequence functions), schemas (their objects' names written
//! as SQLite's `"s.t"`) and SQL functions (calls of its function registry). Knows no
//! routing.

pub(crate) mod functions;
pub(crate) mod schemas;
pub(crate) mod sequences;
