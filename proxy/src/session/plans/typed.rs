//! Plans whose translation depends on their tables' column types
//! ([`PlannedStatement::needs_schema`]: `pg_typeof(x)`, `flag = 't'`, `price * 2`), made
//! again with them before they run, with the columns from the server's
//! [`ColumnCache`](crate::session::column_cache::ColumnCache).

use std::sync::Arc;

use litescale_router::{PlannedStatement, plan_with_schema};

use crate::error::SqlError;
use crate::session::column_cache::{Columns, SchemaChangeMark};
use crate::session::plans::describe::SchemaSnapshot;
use crate::session::state::{Block, Session, SessionState};

impl SessionState {
    /// `planned` as it runs: planned again with its tables' column types where its
    /// translation depends on them.
    pub(crate) async fn typed(
        &mut self,
        session: &Session,
        planned: &PlannedStatement,
    ) -> Result<Option<PlannedStatement>, SqlError> {
        if !planned.needs_schema {
            return Ok(None);
        }
        let columns = self.columns_of(session, planned.tables()).await?;
        let schema = SchemaSnapshot(columns.as_ref().clone());
        Ok(Some(plan_with_schema(planned, &schema, &session.context)?))
    }

    async fn columns_of(
        &mut self,
        session: &Session,
        tables: Vec<String>,
    ) -> Result<Columns, SqlError> {
        let cache = &session.column_cache;
        // A block that changed the schema sees it on its writer, and no one else does yet.
        let own_changes = matches!(&self.block, Block::Open(b) if b.schema_change.is_some());
        let key = (session.context.database.clone(), tables);
        if !own_changes && let Some(columns) = cache.get(&key) {
            return Ok(columns);
        }
        let generation = cache.generation();
        let columns = Arc::new(self.table_columns(session, key.1.clone()).await?);
        if !own_changes {
            cache.put(key, generation, Arc::clone(&columns));
        }
        Ok(columns)
    }

    /// A DDL statement is about to run: the cache forgets what it holds now, and, in a
    /// block, again when the block ends.
    pub(crate) fn schema_changing(&mut self, session: &Session) {
        session.column_cache.schema_changed();
        if let Block::Open(b) = &mut self.block {
            b.schema_change
                .get_or_insert_with(|| SchemaChangeMark::new(&session.column_cache));
        }
    }
}
