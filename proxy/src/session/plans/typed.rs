//! Plans whose translation depends on their tables' column types
//! ([`PlannedStatement::needs_schema`]: `pg_typeof(x)`, `flag = 't'`, `price * 2`), made
//! again with them before they run, with the columns from the server's
//! [`ColumnCache`](crate::session::column_cache::ColumnCache). The session keeps each such
//! plan by statement for as long as no schema has changed, so a repeated statement is
//! translated once, as the plan cache does for the rest.

use std::sync::Arc;

use litescale_router::{
    PgType, PlannedStatement, Schema, SessionContext, StatementKind, TableDefinition,
    plan_with_schema,
};

use crate::error::SqlError;
use crate::session::column_cache::{Columns, SchemaChangeMark};
use crate::session::plans::describe::SchemaSnapshot;
use crate::session::plans::off_lane::ON_LANE_BYTES;
use crate::session::state::{Block, Session, SessionState};

impl SessionState {
    /// `planned` as it runs: planned again with its tables' column types where its
    /// translation depends on them.
    pub(crate) async fn typed(
        &mut self,
        session: &Session,
        planned: &PlannedStatement,
    ) -> Result<Option<Arc<PlannedStatement>>, SqlError> {
        let context = self.planning_context(session);
        let searches = context.searches_other_schemas();
        if !planned.needs_schema && !searches {
            return Ok(None);
        }
        if searches && session.map.count() > 1 {
            // The statement was routed by its names as written.
            return Err(SqlError::new(
                "0A000",
                "a search_path naming a schema other than public is not supported by \
                 litescale in a partitioned database; name that schema's tables qualified",
            ));
        }
        let own_changes = self.changed_the_schema();
        // The same text names other tables under another search path.
        let key = if searches {
            format!("{:?}\n{}", context.search_path, planned.ast_text())
        } else {
            planned.ast_text().to_owned()
        };
        let generation = session.column_cache.generation();
        if !own_changes && let Some(typed) = session.typed_plan(&key, planned, generation) {
            return Ok(Some(typed));
        }
        let columns = self
            .columns_of(session, planned.tables_in(&context))
            .await?;
        // An ALTER TABLE that makes its table again reads the table's definition.
        let definitions = match planned.kind {
            StatementKind::Ddl(_) => self.table_definitions(session, planned.tables()).await?,
            _ => Vec::new(),
        };
        let schema = WithDefinitions {
            columns: SchemaSnapshot(columns.as_ref().clone()),
            definitions,
        };
        let typed = Arc::new(if key.len() <= ON_LANE_BYTES {
            plan_with_schema(planned, &schema, &context)?
        } else {
            // A long text translates on a blocking thread, as its first plan did, so the
            // lane's other connections are not kept waiting.
            let planned = planned.clone();
            tokio::task::spawn_blocking(move || plan_with_schema(&planned, &schema, &context))
                .await
                .map_err(|e| SqlError::new("XX000", format!("planning failed: {e}")))??
        });
        if !own_changes {
            session.keep_typed_plan(key, generation, Arc::clone(&typed));
        }
        Ok(Some(typed))
    }

    /// The session's context with the search path its settings have now.
    pub(crate) fn planning_context(&self, session: &Session) -> SessionContext {
        SessionContext {
            search_path: self.settings.search_path(),
            ..session.context.clone()
        }
    }

    pub(crate) async fn columns_of(
        &mut self,
        session: &Session,
        tables: Vec<String>,
    ) -> Result<Columns, SqlError> {
        let cache = &session.column_cache;
        let own_changes = self.changed_the_schema();
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

    /// The session's block changed the schema: what it plans with only its writer sees, so
    /// nothing it reads is shared or kept.
    fn changed_the_schema(&self) -> bool {
        matches!(&self.block, Block::Open(b) if b.schema_change.is_some())
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

/// The tables' columns, and the definitions of those an ALTER TABLE makes again.
struct WithDefinitions {
    columns: SchemaSnapshot,
    definitions: Vec<(String, TableDefinition)>,
}

impl Schema for WithDefinitions {
    fn column_type(&self, table: &str, column: &str) -> Option<PgType> {
        self.columns.column_type(table, column)
    }

    fn columns(&self, table: &str) -> Vec<String> {
        self.columns.columns(table)
    }

    fn declared_type(&self, table: &str, column: &str) -> Option<String> {
        self.columns.declared_type(table, column)
    }

    fn definition(&self, table: &str) -> Option<TableDefinition> {
        self.definitions
            .iter()
            .find(|(t, _)| t.eq_ignore_ascii_case(table))
            .map(|(_, d)| d.clone())
    }

    fn reads_definitions(&self) -> bool {
        true
    }
}

impl Session {
    /// The plan made with the columns for `planned` (kept under `key`), if no schema
    /// changed since.
    fn typed_plan(
        &self,
        key: &str,
        planned: &PlannedStatement,
        generation: u64,
    ) -> Option<Arc<PlannedStatement>> {
        let mut plans = self.typed_plans.lock().unwrap_or_else(|e| e.into_inner());
        match plans.get(key) {
            // A routing hint comes from a comment, which the statement's text leaves out.
            Some((made, typed)) if *made == generation && typed.hint == planned.hint => {
                Some(Arc::clone(typed))
            }
            _ => None,
        }
    }

    fn keep_typed_plan(&self, key: String, generation: u64, typed: Arc<PlannedStatement>) {
        let mut plans = self.typed_plans.lock().unwrap_or_else(|e| e.into_inner());
        if plans.len() >= self.plan_cache {
            plans.pop_lru();
        }
        plans.put(key, (generation, typed));
    }
}
