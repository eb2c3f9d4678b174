//! Postgres objects SQLite has none of, as the shard keeps them (shard engine/objects/):
//! sequences (calls of its sequence functions) and schemas (their objects' names written
//! as SQLite's `"s.t"`). Knows no routing.

pub(crate) mod schemas;
pub(crate) mod sequences;
