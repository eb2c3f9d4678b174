//! One client connection's state: its database, its transaction block, its settings and
//! its cache of parsed statements.

use std::sync::{Arc, Mutex};

use litescale_config::PartitionMap;
use litescale_router::{PgType, PlannedStatement, Schema, SessionContext, StatementKind, types};

use crate::explain::EXPLAIN_COLUMN;
use std::collections::BTreeMap;

use litescale_shard::{ColumnMeta, Database, Partition, Transaction, TxLog};
use lru::LruCache;
use pgwire::messages::response::TransactionStatus;
use tokio::sync::OnceCell;

use crate::cancel::CancelTarget;
use crate::coordinator::WaitGraph;
use crate::encode::column_type;
use crate::error::SqlError;
use crate::settings::Settings;

pub struct Session {
    /// The database's partitions, in order (one for an unpartitioned database).
    pub partitions: Vec<Arc<Partition>>,
    /// The log of the database's cross-partition transactions.
    pub(crate) txlog: Arc<TxLog>,
    /// Who waits for which partition writer, to catch deadlocks between sessions.
    pub(crate) wait_graph: Arc<WaitGraph>,
    /// This session in the wait graph.
    pub(crate) owner: u64,
    /// Every database, for CREATE and DROP DATABASE; absent for a user without that right.
    pub(crate) storage: Option<Arc<litescale_shard::Storage>>,
    /// Ends the connection from outside its message loop (absent in unit tests).
    pub(crate) control: Option<Arc<crate::server::ConnectionControl>>,
    /// Which partition owns what.
    pub map: Arc<PartitionMap>,
    /// Who and where the session is, for `current_user`, `current_database()`, ...
    pub(crate) context: SessionContext,
    pub cancel: Arc<CancelTarget>,
    /// Parsed statements by query text, so a repeated statement is not parsed again.
    plans: Mutex<LruCache<String, Arc<Vec<PlannedStatement>>>>,
    /// Plans kept at most.
    plan_cache: usize,
    pub state: tokio::sync::Mutex<SessionState>,
}

pub struct SessionState {
    pub(crate) block: Block,
    pub(crate) settings: Settings,
    /// A COPY FROM STDIN in progress.
    pub(crate) copy_in: Option<crate::copy_in::CopyIn>,
    /// Counts the client's messages, so a timer can tell whether the client did anything
    /// since it started.
    pub(crate) activity: u64,
}

/// The client's transaction block, as Postgres tracks it.
pub(crate) enum Block {
    Idle,
    Open(OpenBlock),
}

pub(crate) struct OpenBlock {
    /// The writer of each partition the block writes, taken at its first write there (or
    /// at BEGIN for SERIALIZABLE in an unpartitioned database). Reads of a partition the
    /// block does not write run on readers, each with a fresh snapshot, which is what
    /// READ COMMITTED promises.
    pub txns: BTreeMap<usize, Transaction>,
    /// Savepoints in force, oldest first: a partition the block starts writing later gets
    /// them too, so ROLLBACK TO undoes its part as well.
    pub savepoints: Vec<String>,
    /// When the block began, to choose who gives way in a deadlock (the youngest).
    pub age: u64,
    /// The settings when the block began: a rollback undoes SETs made in it, as Postgres
    /// does.
    pub settings_before: crate::settings::Settings,
    /// An error happened: only ROLLBACK (or ROLLBACK TO) is accepted until the block ends.
    pub failed: bool,
    pub read_only: bool,
    /// Opened by a multi-statement simple query rather than by BEGIN.
    pub implicit: bool,
}

/// A statement prepared with the extended protocol: its plan, and its parameter and
/// result types once described.
pub struct Prepared {
    plans: Arc<Vec<PlannedStatement>>,
    described: OnceCell<Described>,
}

#[derive(Debug, Clone)]
pub struct Described {
    pub params: Vec<PgType>,
    pub columns: Vec<(String, PgType)>,
}

impl Prepared {
    pub fn planned(&self) -> &PlannedStatement {
        // Parse refuses anything but exactly one statement.
        &self.plans[0]
    }

    pub fn described(&self) -> Option<&Described> {
        self.described.get()
    }
}

/// The columns of the tables a statement names, as the router's [`Schema`].
pub(crate) struct SchemaSnapshot(pub(crate) Vec<(String, Vec<ColumnMeta>)>);

impl SchemaSnapshot {
    fn table(&self, table: &str) -> Option<&[ColumnMeta]> {
        self.0
            .iter()
            .find(|(t, _)| t.eq_ignore_ascii_case(table))
            .map(|(_, c)| c.as_slice())
    }
}

impl Schema for SchemaSnapshot {
    fn column_type(&self, table: &str, column: &str) -> Option<PgType> {
        self.table(table)?
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(column))
            .and_then(|c| c.decl_type.as_deref())
            .and_then(types::from_declared)
    }

    fn columns(&self, table: &str) -> Vec<String> {
        self.table(table)
            .map(|cols| cols.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default()
    }
}

impl Session {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        database: Database,
        map: Arc<PartitionMap>,
        wait_graph: Arc<WaitGraph>,
        context: SessionContext,
        cancel: Arc<CancelTarget>,
        settings: Settings,
        plan_cache: usize,
    ) -> Session {
        Session {
            partitions: database.partitions,
            txlog: database.txlog,
            wait_graph,
            owner: crate::coordinator::sequence(),
            map,
            context,
            cancel,
            // Grown as statements come: LruCache::new would allocate room for all of them
            // at once, which for an idle connection is most of its memory.
            plans: Mutex::new(LruCache::unbounded()),
            plan_cache: plan_cache.max(1),
            state: tokio::sync::Mutex::new(SessionState {
                block: Block::Idle,
                settings,
                copy_in: None,
                activity: 0,
            }),
            control: None,
            storage: None,
        }
    }

    /// What a session of a running server reaches beyond its own database: its
    /// connection's off-switch (for the idle-in-transaction timeout) and the storage (for
    /// CREATE and DROP DATABASE).
    pub(crate) fn attached(
        mut self,
        control: Option<Arc<crate::server::ConnectionControl>>,
        storage: Arc<litescale_shard::Storage>,
        may_create_databases: bool,
    ) -> Session {
        self.control = control;
        self.storage = may_create_databases.then_some(storage);
        self
    }

    /// Called when the session has answered a message. A transaction block left open
    /// starts `idle_in_transaction_session_timeout`: if the client sends nothing before it
    /// runs out, the block is rolled back (its partition writers released) and the
    /// connection ends with FATAL 25P03, as in Postgres.
    pub(crate) fn watch_idle(self: &Arc<Self>, state: &mut SessionState) {
        state.activity += 1;
        let Some(limit) = state
            .settings
            .duration("idle_in_transaction_session_timeout")
        else {
            return;
        };
        if !matches!(&state.block, Block::Open(b) if !b.implicit) {
            return;
        }
        let Some(control) = self.control.clone() else {
            return;
        };
        let seen = state.activity;
        let session = Arc::downgrade(self);
        tokio::spawn(async move {
            tokio::time::sleep(limit).await;
            let Some(session) = session.upgrade() else {
                return;
            };
            let mut state = session.state.lock().await;
            if state.activity != seen {
                return;
            }
            // Dropping the block's transactions rolls them back.
            state.block = Block::Idle;
            control.terminate(SqlError::new(
                "25P03",
                "terminating connection due to idle-in-transaction timeout",
            ));
        });
    }

    /// The planned statements of a query string, from the cache when seen before.
    pub fn plan(&self, sql: &str) -> Result<Arc<Vec<PlannedStatement>>, SqlError> {
        // pgwire decodes query text lossily: bytes that are not UTF-8 arrive as U+FFFD.
        // Running such a query would store or match something the client never sent.
        if sql.contains(char::REPLACEMENT_CHARACTER) {
            return Err(SqlError::new(
                "22021",
                "invalid byte sequence for encoding \"UTF8\" in the query text (a U+FFFD character in query text is refused too: it cannot be told apart; send it as a parameter)",
            ));
        }
        let mut cache = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = cache.get(sql) {
            return Ok(Arc::clone(p));
        }
        let planned = Arc::new(litescale_router::plan_in(sql, &self.context)?);
        if cache.len() >= self.plan_cache {
            cache.pop_lru();
        }
        cache.put(sql.to_owned(), Arc::clone(&planned));
        Ok(planned)
    }

    /// Plans a statement for the extended protocol, which takes exactly one.
    pub fn prepare(&self, sql: &str) -> Result<Prepared, SqlError> {
        let plans = self.plan(sql)?;
        if plans.len() != 1 {
            return Err(SqlError::new(
                "42601",
                "cannot insert multiple commands into a prepared statement",
            ));
        }
        Ok(Prepared {
            plans,
            described: OnceCell::new(),
        })
    }

    /// Parameter and result types of a prepared statement, worked out once. Parameter
    /// types the client gave in Parse win over inferred ones.
    pub async fn describe<'p>(
        &self,
        prepared: &'p Prepared,
        client_types: &[Option<PgType>],
    ) -> Result<&'p Described, SqlError> {
        prepared
            .described
            .get_or_try_init(|| async {
                let planned = prepared.planned();
                let mut state = self.state.lock().await;
                let tables = planned.tables();
                let schema = if tables.is_empty() {
                    SchemaSnapshot(Vec::new())
                } else {
                    SchemaSnapshot(state.table_columns(self, tables).await?)
                };
                let params: Vec<PgType> = planned
                    .param_types(&schema)
                    .into_iter()
                    .enumerate()
                    .map(|(i, inferred)| client_types.get(i).copied().flatten().unwrap_or(inferred))
                    .collect();
                let text = |name: &str| (name.to_owned(), PgType::Text);
                let columns = if let StatementKind::Show(name) = &planned.kind {
                    if name == "all" {
                        vec![text("name"), text("setting")]
                    } else {
                        vec![text(name)]
                    }
                } else if matches!(planned.kind, StatementKind::Explain(_)) {
                    vec![text(EXPLAIN_COLUMN)]
                } else if planned.returns_rows() {
                    let metas = state.describe_sql(self, planned.sqlite_sql.clone()).await?;
                    let inferred = planned.projection_types(&schema, &params);
                    metas
                        .iter()
                        .enumerate()
                        .map(|(i, m)| {
                            let t = column_type(m, inferred.get(i).copied().flatten(), None);
                            (m.name.clone(), t)
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                Ok(Described { params, columns })
            })
            .await
    }
}

impl SessionState {
    pub fn transaction_status(&self) -> TransactionStatus {
        match &self.block {
            Block::Open(b) if b.failed && !b.implicit => TransactionStatus::Error,
            Block::Open(b) if !b.implicit => TransactionStatus::Transaction,
            _ => TransactionStatus::Idle,
        }
    }

    /// Any error inside a transaction block fails it, as in Postgres.
    pub fn fail_block(&mut self) {
        if let Block::Open(b) = &mut self.block {
            b.failed = true;
        }
    }

    pub fn is_idle(&self) -> bool {
        matches!(self.block, Block::Idle)
    }

    pub(crate) async fn table_columns(
        &mut self,
        session: &Session,
        tables: Vec<String>,
    ) -> Result<Vec<(String, Vec<ColumnMeta>)>, SqlError> {
        // Inside a transaction that holds the writer, tables it created are visible only
        // on the writer.
        Ok(match self.held_writer() {
            Some(t) => t.table_columns(tables).await?,
            // Every partition has the same schema.
            None => session.partitions[0].table_columns(tables).await?,
        })
    }

    async fn describe_sql(
        &mut self,
        session: &Session,
        sql: String,
    ) -> Result<Vec<ColumnMeta>, SqlError> {
        Ok(match self.held_writer() {
            Some(t) => t.describe(sql).await?,
            None => session.partitions[0].describe(sql).await?,
        })
    }

    /// A writer the block holds, if any: every partition has the same schema.
    fn held_writer(&mut self) -> Option<&mut Transaction> {
        match &mut self.block {
            Block::Open(b) => b.txns.values_mut().next(),
            Block::Idle => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use litescale_config::Config;

    fn session(dir: &std::path::Path) -> Session {
        let config = Config {
            data_dir: dir.to_owned(),
            ..Config::default()
        };
        let storage =
            litescale_shard::Storage::open(&config, &["db"], crate::server::type_catalog())
                .unwrap();
        Session::new(
            storage.database("db").unwrap(),
            Arc::new(PartitionMap::single()),
            Arc::default(),
            SessionContext::default(),
            Arc::new(CancelTarget::default()),
            Settings::new(None),
            2,
        )
    }

    #[test]
    fn a_repeated_statement_is_parsed_once() {
        let dir = tempfile::tempdir().unwrap();
        let s = session(dir.path());
        let first = s.plan("SELECT 1").unwrap();
        let again = s.plan("SELECT 1").unwrap();
        assert!(
            Arc::ptr_eq(&first, &again),
            "second plan came from the cache"
        );
        // The cache is bounded: older entries make room for newer ones.
        s.plan("SELECT 2").unwrap();
        s.plan("SELECT 3").unwrap();
        assert!(!Arc::ptr_eq(&first, &s.plan("SELECT 1").unwrap()));
    }

    #[test]
    fn prepare_takes_exactly_one_statement() {
        let dir = tempfile::tempdir().unwrap();
        let s = session(dir.path());
        assert!(s.prepare("SELECT 1").is_ok());
        assert_eq!(
            s.prepare("SELECT 1; SELECT 2").err().unwrap().sqlstate,
            "42601"
        );
    }
}
