//! Planning a long query string away from the lane. Parsing and translation are linear in
//! the text, but a 290 KB IN list still plans for a while: on the lane's thread that
//! stalls every connection sharing the lane, and neither a cancel nor statement_timeout
//! could answer before it ended. Texts past [`ON_LANE_BYTES`] plan on a blocking thread
//! while the connection waits for the plan, a cancel or the timeout, whichever comes
//! first; a plan given up on finishes in the background (its text is bounded by
//! `[limits] max_query_bytes`) and is dropped.

use std::time::Duration;

use litescale_router::PlannedStatement;

use crate::error::SqlError;
use crate::session::interrupts::timer::StatementTimer;
use crate::session::state::Session;

/// Texts up to this long plan on the lane: under a millisecond of work, less than a hop
/// to another thread and back would add for the many short statements.
pub(crate) const ON_LANE_BYTES: usize = 16 << 10;

/// Plans `sql` on a blocking thread; a cancel, or `timeout` running out, answers 57014 as
/// soon as it comes.
pub(crate) async fn plan_off_lane(
    session: &Session,
    sql: &str,
    timeout: Option<Duration>,
) -> Result<Vec<PlannedStatement>, SqlError> {
    let canceled = session.cancel.canceled();
    tokio::pin!(canceled);
    // Registered now, so a cancel that comes while the planner starts is not missed.
    canceled.as_mut().enable();
    let timer = timeout.map(|limit| StatementTimer::start(&session.cancel, limit));
    let (text, context) = (sql.to_owned(), session.context.clone());
    let planning = tokio::task::spawn_blocking(move || litescale_router::plan_in(&text, &context));
    tokio::select! {
        planned = planning => match planned {
            Ok(planned) => Ok(planned?),
            Err(_) => Err(SqlError::new("XX000", "planning the statement failed")),
        },
        () = &mut canceled => {
            let e = SqlError::new("57014", "canceling statement due to user request");
            Err(match &timer {
                Some(timer) => timer.explain(e),
                None => e,
            })
        }
    }
}
