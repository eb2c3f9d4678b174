//! A statement with data-modifying statements in its WITH: each of them runs first, on the
//! writer, and the statement then reads the rows they returned (bound as parameters), all
//! in one transaction, so a failure anywhere undoes every part.

use litescale_router::{PlannedStatement, Returned, plan_reading_returned};
use litescale_shard::{Outcome, Value};

use crate::error::SqlError;
use crate::session::execute::reply::Reply;
use crate::session::state::{Session, SessionState};

impl SessionState {
    pub(super) async fn run_modifying_with(
        &mut self,
        session: &Session,
        planned: &PlannedStatement,
    ) -> Result<Reply, SqlError> {
        let implicit = self.is_idle();
        if implicit {
            self.open_implicit();
        }
        let result = self.modifying_then_reading(session, planned).await;
        if implicit {
            self.close_implicit(session, result.is_ok()).await?;
        }
        result
    }

    async fn modifying_then_reading(
        &mut self,
        session: &Session,
        planned: &PlannedStatement,
    ) -> Result<Reply, SqlError> {
        let mut returned = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        for step in &planned.modifying_ctes {
            let typed = self.typed(session, step).await?;
            let step = typed.as_deref().unwrap_or(step);
            match self.run(session, step, Vec::new()).await? {
                Outcome::Rows(rows) => {
                    let count = rows.rows.len();
                    returned.push(self.returned(session, step, rows.columns, count).await?);
                    values.extend(rows.rows.into_iter().flatten());
                }
                // Without RETURNING, the CTE has no rows to read.
                Outcome::Changed(_) => returned.push(Returned {
                    columns: Vec::new(),
                    rows: 0,
                }),
            }
        }
        let reading = plan_reading_returned(planned, &returned, &session.context)?;
        let typed = self.typed(session, &reading).await?;
        self.run_reply(session, typed.as_deref().unwrap_or(&reading), values)
            .await
    }
}
