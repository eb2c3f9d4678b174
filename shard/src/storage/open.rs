//! Opening a partition's SQLite file: read-only connections for readers, and the
//! writable one (WAL mode, the configured sync) that may become the primary's.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::engine::options::{ConnectionOptions, configure};
use crate::error::ShardError;
use crate::storage::durability::writer_pragma;

/// Opens a read-only connection to a partition's file.
pub(crate) fn open_reader(
    path: &Path,
    options: &ConnectionOptions,
) -> Result<Connection, ShardError> {
    let mut c = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&mut c, options)?;
    Ok(c)
}

/// Opens the partition's file for writing, in WAL mode; nothing is written on it until
/// it becomes the primary's.
pub(crate) fn open_writable(
    path: &Path,
    options: &ConnectionOptions,
) -> Result<Connection, ShardError> {
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // WAL: readers never block the writer and see each commit as soon as it is made.
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(ShardError::new(
            "58030",
            format!("{} cannot use WAL mode (got {mode})", path.display()),
        ));
    }
    let synchronous = writer_pragma(options.storage.synchronous);
    conn.pragma_update(None, "synchronous", synchronous)?;
    configure(&mut conn, options)?;
    Ok(conn)
}
