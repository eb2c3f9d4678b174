//! A session's statements before they run: plan cache, prepared statements, EXPLAIN.
//! It must not run statements or know the wire protocol.
//!
//! Long texts plan off the lane; a prepared statement is described once.
//!
//! Order: `explain` <- `describe` <- `cache` -> `off_lane`.

pub(crate) mod cache;
pub(crate) mod describe;
pub(crate) mod explain;
mod off_lane;
