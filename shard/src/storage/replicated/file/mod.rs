//! A partition's local file as a cache of its log: the committed WAL frames a primary
//! ships (`frames`), the file caught up with the log or rebuilt (`catch_up`), snapshots
//! of it in the engine's object store (`snapshot`), taken off the commit path
//! (`snapshotter`), point-in-time restore (`restore`), and a replica's file following
//! the log while it is read (`follower`).
//! It must not know the commit path's appends or leases: it reads the log, never writes
//! it (only purges what a snapshot holds).
//!
//! Order inside: `frames`; `snapshot` <- `catch_up` <- `restore`, `snapshotter`,
//! `follower`.

pub(super) mod catch_up;
pub(super) mod follower;
pub(super) mod frames;
pub(super) mod restore;
pub(super) mod snapshot;
pub(super) mod snapshotter;
