//! What SQL on a litescale connection has that SQLite lacks: Postgres functions, pg_catalog.
//! It must not know where the connection's file lives or who asked: it registers SQL, nothing more.

mod args;
pub mod arrays;
mod bytes;
pub(crate) mod catalog;
pub(crate) mod functions;
mod math;
mod regex;
mod strings;
pub(crate) mod typecheck;

use std::path::Path;

use rusqlite::Connection;

use catalog::TypeCatalog;

/// Registers every function and catalog view on a connection.
pub(crate) fn register(
    c: &Connection,
    database: &str,
    root: &Path,
    types: &TypeCatalog,
) -> rusqlite::Result<()> {
    functions::register(c)?;
    arrays::register(c)?;
    strings::register(c)?;
    regex::register(c)?;
    bytes::register(c)?;
    math::register(c)?;
    typecheck::register(c, types)?;
    catalog::register(c, database, root, types)
}
