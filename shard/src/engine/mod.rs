//! The engine: what runs on one SQLite connection, synchronously (statements, reads, SQL).
//! It must not know files, processes or partitions: whoever opens the connection hands it in.
//!
//! Besides statements and the reads it serves: Postgres' SQL additions (`sql/`), the guard,
//! privileges (who a statement runs as, what GRANT lets it do), SQLite's errors as SQLSTATEs.
//!
//! The same code serves a partition in process (on the caller's thread) and in a worker
//! process (on a link's thread), so both behave alike to the byte.
//!
//! Order inside: `sql`, `guard`, `objects` <- `options` (sets a connection up); `sql` <-
//! `sqlite_errors`; `long_running`, `statements` <- `reads`; `sql` <- `privileges` <-
//! `guard`, `statements`, `sqlite_errors`;
//! `guard`, `sql` <- `table_definition` <- `objects`, `statements`; `objects` <- `truncate`.

pub(crate) mod guard;
pub(crate) mod long_running;
mod objects;
pub(crate) mod options;
pub(crate) mod privileges;
pub(crate) mod reads;
pub(crate) mod sql;
pub(crate) mod sqlite_errors;
pub(crate) mod statements;
pub(crate) mod table_definition;
mod truncate;

pub(crate) use objects::{BlockValues, in_block};
