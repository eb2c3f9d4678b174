//! What SQL on a litescale connection has that SQLite lacks: Postgres functions, pg_catalog.
//! It must not know where the connection's file lives or who asked: it registers SQL, nothing more.

mod aggregates;
mod args;
pub(crate) mod array_functions;
pub mod arrays;
pub(crate) mod catalog;
mod column_writes;
pub(crate) mod datetime;
pub(crate) mod functions;
pub(crate) mod identifiers;
pub mod json;
mod math;
pub mod numeric;
mod regtype;
mod set_returning;
mod text;
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
    column_writes::register(c, types)?;
    arrays::register(c)?;
    text::register(c)?;
    set_returning::register(c)?;
    math::register(c)?;
    numeric::register(c)?;
    aggregates::register(c)?;
    datetime::register(c)?;
    array_functions::register(c)?;
    json::register(c)?;
    typecheck::register(c, types)?;
    regtype::register(c, types)?;
    catalog::register(c, database, root, types)
}
