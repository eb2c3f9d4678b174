//! Postgres objects SQLite has none of, as the shard keeps them (shard engine/objects/):
//! sequences (calls of its sequence functions), domains (their column definitions), schemas (their objects' names written
//! as SQLite's `"s.t"`), SQL functions (calls of its function registry) and privileges
//! (GRANT and REVOKE). Knows no routing.

pub(crate) mod domains;
pub(crate) mod functions;
pub(crate) mod grants;
pub(crate) mod schemas;
pub(crate) mod sequences;
