//! A session's statements before they run: plans by query text (long texts planned off
//! the lane), prepared statements and their description, EXPLAIN.
//! It must not run statements or know the wire protocol.
//!
//! Order: `explain` <- `describe` <- `cache` -> `off_lane`.

pub(crate) mod cache;
pub(crate) mod describe;
pub(crate) mod explain;
mod off_lane;
