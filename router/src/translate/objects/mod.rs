//! Postgres objects SQLite has none of, as the shard keeps them (shard engine/objects/):
//! sequences (calls of its sequence functions), domains (their column definitions), schemas (their objects' names written
//! as SQLite's `"s.t"`) and SQL functions (calls of its function registry). Knows no
//! routing.

pub(crate) mod domains;
pub(crate) mod functions;
pub(crate) mod schemas;
pub(crate) mod sequences;
