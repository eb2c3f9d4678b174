//! What statements answer: PostgreSQL's dialect, transaction blocks, concurrent sessions,
//! per-client limits. Not the protocol that carries them.

mod advisory_locks;
mod concurrency;
mod dialect;
mod enum_types;
mod limits;
mod notifications;
mod schema_changes;
mod time_zones;
mod transactions;
