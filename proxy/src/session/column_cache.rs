//! The columns of the tables statements name, shared by every session of the server for
//! plans that need their types, and emptied whenever a schema may have changed: after each
//! DDL statement, when a block that ran DDL ends (committed or not), and when the storage
//! says a schema changed outside this server's sessions (replicated storage: a follower
//! applied DDL from the log, a peer's DDL ran here). Knows no session.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;
use litescale_shard::ColumnMeta;

pub(crate) type Columns = Arc<Vec<(String, Vec<ColumnMeta>)>>;

/// The columns of the tables statements named, by database and table list, as of a
/// schema generation.
#[derive(Default)]
pub struct ColumnCache {
    generation: AtomicU64,
    /// The storage's count of schema changes made elsewhere ([`Storage::schema_changes`]).
    ///
    /// [`Storage::schema_changes`]: litescale_shard::Storage::schema_changes
    elsewhere: Arc<AtomicU64>,
    entries: DashMap<(String, Vec<String>), (u64, Columns)>,
}

impl ColumnCache {
    /// A cache that is also stale once `elsewhere` moves.
    pub(crate) fn new(elsewhere: Arc<AtomicU64>) -> ColumnCache {
        ColumnCache {
            elsewhere,
            ..ColumnCache::default()
        }
    }

    /// A schema may have changed: what was read before is not used again.
    pub(crate) fn schema_changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries.clear();
    }

    /// The schema generation now: read it before reading columns, to [`Self::put`] them.
    pub(crate) fn generation(&self) -> u64 {
        // Both only grow, so their sum moves whenever either does.
        self.generation.load(Ordering::SeqCst) + self.elsewhere.load(Ordering::SeqCst)
    }

    /// Columns read as of `generation`: a change since makes the entry stale at once.
    pub(crate) fn put(&self, key: (String, Vec<String>), generation: u64, columns: Columns) {
        self.entries.insert(key, (generation, columns));
    }

    pub(crate) fn get(&self, key: &(String, Vec<String>)) -> Option<Columns> {
        let entry = self.entries.get(key)?;
        let (generation, columns) = entry.value();
        (*generation == self.generation()).then(|| Arc::clone(columns))
    }
}

/// Kept by a block that ran DDL: when the block ends, however it ends, the schema other
/// sessions see may have changed.
pub(crate) struct SchemaChangeMark(Arc<ColumnCache>);

impl SchemaChangeMark {
    pub(crate) fn new(cache: &Arc<ColumnCache>) -> SchemaChangeMark {
        SchemaChangeMark(Arc::clone(cache))
    }
}

impl Drop for SchemaChangeMark {
    fn drop(&mut self) {
        self.0.schema_changed();
    }
}
