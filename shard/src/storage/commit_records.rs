//! The `_litescale_commits` table in every partition: which decided cross-partition
//! transactions it has committed its part of (see txlog.rs). A row is written in the
//! same SQLite transaction as the part, so recovery can tell a missing part from a done one.

use crate::engine::guard::as_litescale;
use crate::error::ShardError;

/// The table in every partition that says which decided transactions it has committed.
pub(crate) const COMMITS_TABLE: &str = "_litescale_commits";

/// Records, in the partition's open transaction, that it commits its part of `txid`.
pub(crate) fn record_commit(c: &rusqlite::Connection, txid: u64) -> Result<(), ShardError> {
    as_litescale(|| {
        c.execute(
            &format!("INSERT INTO {COMMITS_TABLE} VALUES (?1)"),
            [txid as i64],
        )
    })?;
    Ok(())
}

/// Drops the records of transactions older than `txid`, which recovery will never ask
/// about again.
pub(crate) fn forget_commits_below(c: &rusqlite::Connection, txid: u64) -> Result<(), ShardError> {
    as_litescale(|| {
        c.execute(
            &format!("DELETE FROM {COMMITS_TABLE} WHERE txid < ?1"),
            [txid.min(i64::MAX as u64) as i64],
        )
    })?;
    Ok(())
}
