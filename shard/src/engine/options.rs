//! What every connection of a partition is set up with, and the setup itself: litescale's
//! PRAGMAs, its SQL functions and catalog views, then the guard.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use litescale_config::StorageConfig;
use rusqlite::Connection;

use crate::engine::sql::catalog::TypeCatalog;
use crate::error::ShardError;
use crate::usage::Usage;

/// What every connection of a partition is set up with.
#[derive(Clone)]
pub(crate) struct ConnectionOptions {
    pub storage: StorageConfig,
    pub statement_cache: usize,
    /// The database's name, for the catalog's `current_database()` and pg_database.
    pub database: String,
    pub types: TypeCatalog,
    /// The database's metering, shared by its partitions.
    pub usage: Arc<Usage>,
    /// The storage directory (every tenant's database is a directory in it).
    pub root: PathBuf,
    /// Bytes one statement's materialised result may hold (`limits.max_result_mb`).
    pub max_result_bytes: usize,
}

/// Sets a connection up as every litescale connection is; the guard comes last, after
/// litescale's own PRAGMAs and catalog views.
pub(crate) fn configure(c: &mut Connection, options: &ConnectionOptions) -> Result<(), ShardError> {
    c.busy_timeout(Duration::from_millis(options.storage.busy_timeout_ms))?;
    // Postgres always enforces foreign keys; SQLite only when asked.
    c.pragma_update(None, "foreign_keys", "ON")?;
    // Postgres' LIKE is case-sensitive; SQLite's is not unless asked.
    c.pragma_update(None, "case_sensitive_like", "ON")?;
    let mmap_bytes = options.storage.mmap_mb.saturating_mul(1 << 20);
    c.pragma_update(
        None,
        "mmap_size",
        i64::try_from(mmap_bytes).unwrap_or(i64::MAX),
    )?;
    crate::engine::sql::register(c, &options.database, &options.root, &options.types)?;
    crate::engine::table_definition::register(c)?;
    crate::engine::objects::register(c)?;
    crate::engine::privileges::register(c)?;
    crate::engine::truncate::register(c)?;
    c.set_prepared_statement_cache_capacity(options.statement_cache);
    crate::engine::guard::install(c)
}
