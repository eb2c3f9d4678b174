//! Read-your-writes across a primary and its read replicas on replicated storage: `SHOW
//! litescale.log_position` on the primary says where its partitions' logs stand (after a
//! commit, at or past it); with `SET litescale.read_after = '<that>'` on a replica each
//! read first waits until the replica's files hold the logs that far.

use std::time::Duration;

use crate::error::SqlError;
use crate::session::execute::reply::Reply;
use crate::session::execute::utility::show_reply;
use crate::session::state::{Session, SessionState};

pub(super) const LOG_POSITION: &str = "litescale.log_position";
const READ_AFTER: &str = "litescale.read_after";
/// How long a read waits for a replica to reach the bookmark.
const WAIT: Duration = Duration::from_secs(10);

impl SessionState {
    /// `SHOW litescale.log_position`: each partition's log position, comma-separated.
    pub(super) fn show_log_position(&self, session: &Session) -> Result<Reply, SqlError> {
        let positions: Option<Vec<String>> = session
            .partitions
            .iter()
            .map(|p| p.log_position().map(|at| at.to_string()))
            .collect();
        let positions = positions.ok_or_else(|| {
            SqlError::new(
                "55000",
                format!("{LOG_POSITION} is known only on replicated storage ([storage] engine = \"jetstream\")"),
            )
        })?;
        Ok(show_reply(LOG_POSITION, positions.join(",")))
    }

    /// The session's `litescale.read_after`, if set.
    pub(super) fn read_after(&self) -> Option<String> {
        self.settings
            .show(READ_AFTER)
            .ok()
            .filter(|b| !b.is_empty())
    }
}

/// Before a read: waits until each partition holds its log through `bookmark` (the
/// session's `litescale.read_after`).
pub(super) async fn reach_bookmark(session: &Session, bookmark: &str) -> Result<(), SqlError> {
    let positions = bookmark
        .split(',')
        .map(|p| p.trim().parse::<u64>())
        .collect::<Result<Vec<u64>, _>>()
        .ok()
        .filter(|p| p.len() == session.partitions.len())
        .ok_or_else(|| {
            SqlError::new(
                "22023",
                format!(
                    "invalid value for parameter \"{READ_AFTER}\": \"{bookmark}\" (one log position per partition, as {LOG_POSITION} shows them)"
                ),
            )
        })?;
    for (partition, position) in session.partitions.iter().zip(positions) {
        partition.reach_log_position(position, WAIT).await?;
    }
    Ok(())
}
