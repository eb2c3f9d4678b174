//! A session's statements before they run: plan cache, prepared statements, EXPLAIN.
//! It must not run statements or know the wire protocol.
//!
//! Long texts plan off the lane; a prepared statement is described once; a plan whose
//! translation depends on column types is made again with them (`typed`, from a column
//! cache the server's sessions share).
//!
//! Order: `explain` <- `describe` <- `cache` -> `off_lane`; `describe`, `off_lane` <- `typed`;
//! `bookmark` (a replica's or peer's reads waiting for a log position) <- `describe`.

pub(crate) mod bookmark;
pub(crate) mod cache;
pub(crate) mod describe;
pub(crate) mod explain;
mod off_lane;
pub(crate) mod typed;
