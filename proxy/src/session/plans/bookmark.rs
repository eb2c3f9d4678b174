//! Read-your-writes across a primary and its read replicas on replicated storage: `SHOW
//! litescale.log_position` on the primary says where its partitions' logs stand (after a
//! commit, at or past it); with `SET litescale.read_after = '<that>'` on a replica each
//! read first waits until the replica's files hold the logs that far: before its plan
//! reads the columns it needs (they may be what it waits for: DDL on the primary).

use std::time::Duration;

use litescale_router::StatementKind;

use crate::error::SqlError;
use crate::session::state::{Session, SessionState};

pub(crate) const LOG_POSITION: &str = "litescale.log_position";
const READ_AFTER: &str = "litescale.read_after";
/// How long a read waits for a replica to reach the bookmark.
const WAIT: Duration = Duration::from_secs(10);

impl SessionState {
    /// `SHOW litescale.log_position`: each partition's log position, comma-separated.
    pub(crate) fn log_positions(&self, session: &Session) -> Result<String, SqlError> {
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
        Ok(positions.join(","))
    }

    /// Before a statement of `kind`: if it reads and the session has a
    /// `litescale.read_after`, waits until each partition holds its log that far.
    pub(crate) async fn reach_read_after(
        // `&mut`: a shared reference to the state would make the future not Send.
        &mut self,
        session: &Session,
        kind: &StatementKind,
    ) -> Result<(), SqlError> {
        if *kind != StatementKind::Read {
            return Ok(());
        }
        match self
            .settings
            .show(READ_AFTER)
            .ok()
            .filter(|b| !b.is_empty())
        {
            Some(bookmark) => reach_bookmark(session, &bookmark).await,
            None => Ok(()),
        }
    }
}

/// Waits until each partition holds its log through `bookmark`.
async fn reach_bookmark(session: &Session, bookmark: &str) -> Result<(), SqlError> {
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
