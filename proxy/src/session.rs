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
use crate::values::encode::column_type;
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
    /// The server's sessions, for pg_cancel_backend and pg_terminate_backend (absent in
    /// unit tests).
    pub(crate) backends: Option<Arc<crate::backends::Backends>>,
    /// The user is an admin: may signal any session.
    pub(crate) admin: bool,
    /// `[limits] idle_in_transaction_writer_timeout_ms`: the longest a block that holds a
    /// writer may wait for its client.
    pub(crate) writer_idle_timeout: Option<std::time::Duration>,
    /// The writers this session's block holds, for SHOW CLIENTS.
    pub(crate) holding: Arc<crate::backends::WriterHolding>,
    /// Which partition owns what.
    pub map: Arc<PartitionMap>,
    /// Who and where the session is, for `current_user`, `current_database()`, ...
    pub(crate) context: SessionContext,
    pub cancel: Arc<CancelTarget>,
    /// Parsed statements by query text, so a repeated statement is not parsed again.
    plans: Mutex<LruCache<String, Arc<Vec<PlannedStatement>>>>,
    /// Plans kept at most.
    plan_cache: usize,
    /// Longest query text planned; a longer one gets 54000.
    max_query_bytes: usize,
    /// What one statement's merged result may hold (`limits.max_result_mb`).
    pub max_result_bytes: usize,
    pub state: tokio::sync::Mutex<SessionState>,
}

/// A session's links to the running server (see [`Session::attached`]).
pub(crate) struct Attachments {
    /// The connection's off-switch.
    pub control: Option<Arc<crate::server::ConnectionControl>>,
    /// Every database, kept when the user may create and drop databases.
    pub storage: Arc<litescale_shard::Storage>,
    pub may_create_databases: bool,
    pub backends: Arc<crate::backends::Backends>,
    pub admin: bool,
    pub writer_idle_timeout: Option<std::time::Duration>,
}

pub struct SessionState {
    pub(crate) block: Block,
    pub(crate) settings: Settings,
    /// A COPY FROM STDIN in progress.
    pub(crate) copy_in: Option<crate::copy_in::CopyIn>,
    /// When the session last answered its client: idle since then.
    pub(crate) idle_since: std::time::Instant,
    /// The idle-in-transaction watcher, if one runs, and when it next wakes.
    pub(crate) idle_watch: Option<(tokio::time::Instant, tokio::task::AbortHandle)>,
}

/// The client's transaction block, as Postgres tracks it.
pub(crate) enum Block {
    Idle,
    Open(OpenBlock),
}

pub(crate) struct OpenBlock {
    /// The writer of each partition the block writes, taken at its first write there (or
    /// at the first statement of a SERIALIZABLE block when it cannot hold a reader
    /// snapshot). Reads of a partition the
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
    /// SERIALIZABLE or REPEATABLE READ (see `SessionState::start_statement`).
    pub serializable: bool,
    /// A statement that reads or writes data has run in the block.
    pub started: bool,
    /// The reader transaction a SERIALIZABLE block reads in until its first write (in
    /// process; see `SessionState::start_statement`).
    pub snapshot: Option<Box<litescale_shard::ReadSnapshot>>,
    /// Shows the writers `txns` holds in SHOW CLIENTS while the block lives.
    pub hold: Option<crate::backends::HoldMark>,
}

impl OpenBlock {
    /// Keeps `txn`, the block's writer transaction on `partition`.
    pub(crate) fn took_writer(&mut self, session: &Session, partition: usize, txn: Transaction) {
        self.hold
            .get_or_insert_with(|| crate::backends::HoldMark::new(&session.holding))
            .add(partition);
        self.txns.insert(partition, txn);
    }
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
        limits: &litescale_config::LimitsConfig,
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
            plan_cache: limits.statement_cache.max(1),
            max_query_bytes: limits.max_query_bytes,
            max_result_bytes: limits.max_result_bytes(),
            state: tokio::sync::Mutex::new(SessionState {
                block: Block::Idle,
                settings,
                copy_in: None,
                idle_since: std::time::Instant::now(),
                idle_watch: None,
            }),
            control: None,
            storage: None,
            backends: None,
            admin: false,
            writer_idle_timeout: None,
            holding: Arc::default(),
        }
    }

    /// What a session of a running server reaches beyond its own database.
    pub(crate) fn attached(mut self, to: Attachments) -> Session {
        self.control = to.control;
        self.storage = to.may_create_databases.then_some(to.storage);
        self.backends = Some(to.backends);
        self.admin = to.admin;
        self.writer_idle_timeout = to.writer_idle_timeout;
        self
    }

    /// Ends the session's connection from outside (pg_terminate_backend, KILL, the idle
    /// timeout): a statement it runs is interrupted, and the client is told `reason` with
    /// a FATAL error instead of that statement's answer, or when it next waits. Closing
    /// the connection drops the block, which rolls back and releases its writers.
    pub(crate) fn terminate(&self, reason: SqlError) {
        if let Some(control) = &self.control {
            control.terminate(reason);
            self.cancel.cancel();
        }
    }

    /// Whether the connection is being ended from outside: no further statement runs.
    pub(crate) fn terminating(&self) -> bool {
        self.control.as_ref().is_some_and(|c| c.terminating())
    }

    /// Why the connection is being ended from outside, once: the caller sends it as
    /// FATAL and ends the connection.
    pub(crate) fn termination(&self) -> Option<SqlError> {
        self.control.as_ref().and_then(|c| c.reason())
    }

    /// Called when the session has answered a message. A transaction block left open
    /// starts `idle_in_transaction_session_timeout` (see [`Session::idle_limit`]): if the
    /// client sends nothing before it runs out, the block is rolled back (its partition
    /// writers released) and the connection ends with FATAL 25P03, as in Postgres.
    ///
    /// One watcher task per session re-arms itself from `idle_since`, so a busy block
    /// costs a clock read per message, not a timer each.
    pub(crate) fn watch_idle(self: &Arc<Self>, state: &mut SessionState) {
        let Some(limit) = self.idle_limit(state) else {
            return;
        };
        if self.control.is_none() {
            return;
        }
        let now = tokio::time::Instant::now();
        state.idle_since = now.into_std();
        let deadline = now + limit;
        match &state.idle_watch {
            // It wakes no later than this deadline, and then waits for the rest.
            Some((wake, _)) if *wake <= deadline => return,
            Some((_, watcher)) => watcher.abort(),
            None => {}
        }
        let session = Arc::downgrade(self);
        let watcher = tokio::spawn(async move {
            let mut wake = deadline;
            loop {
                tokio::time::sleep_until(wake).await;
                let Some(session) = session.upgrade() else {
                    return;
                };
                let mut state = session.state.lock().await;
                let Some(limit) = session.idle_limit(&state) else {
                    state.idle_watch = None;
                    return;
                };
                let deadline = tokio::time::Instant::from_std(state.idle_since) + limit;
                if deadline <= tokio::time::Instant::now() {
                    state.idle_watch = None;
                    // Dropping the block's transactions rolls them back.
                    state.block = Block::Idle;
                    session.terminate(SqlError::new(
                        "25P03",
                        "terminating connection due to idle-in-transaction timeout",
                    ));
                    return;
                }
                if let Some((next, _)) = &mut state.idle_watch {
                    *next = deadline;
                }
                wake = deadline;
            }
        });
        state.idle_watch = Some((deadline, watcher.abort_handle()));
    }

    /// How long the session's open block may wait for its client: the session's
    /// `idle_in_transaction_session_timeout`, and for a block that holds a partition's
    /// writer (and so stops every other writer of it) at most `[limits]
    /// idle_in_transaction_writer_timeout_ms`. `None` outside an explicit block.
    fn idle_limit(&self, state: &SessionState) -> Option<std::time::Duration> {
        let Block::Open(block) = &state.block else {
            return None;
        };
        if block.implicit {
            return None;
        }
        let own = state
            .settings
            .duration("idle_in_transaction_session_timeout");
        let writer = self.writer_idle_timeout.filter(|_| !block.txns.is_empty());
        own.into_iter().chain(writer).min()
    }

    /// The planned statements of a query string, from the cache when seen before. A long
    /// text plans off the lane, and `timeout` (statement_timeout) or a cancel ends the wait
    /// for it with 57014.
    pub async fn plan(
        &self,
        sql: &str,
        timeout: Option<std::time::Duration>,
    ) -> Result<Arc<Vec<PlannedStatement>>, SqlError> {
        if sql.len() > self.max_query_bytes {
            return Err(SqlError::new(
                "54000",
                format!(
                    "statement is too long: {} bytes, more than [limits] max_query_bytes ({})",
                    sql.len(),
                    self.max_query_bytes
                ),
            ));
        }
        // pgwire decodes query text lossily: bytes that are not UTF-8 arrive as U+FFFD.
        // Running such a query would store or match something the client never sent.
        if sql.contains(char::REPLACEMENT_CHARACTER) {
            return Err(SqlError::new(
                "22021",
                "invalid byte sequence for encoding \"UTF8\" in the query text (a U+FFFD character in query text is refused too: it cannot be told apart; send it as a parameter)",
            ));
        }
        if let Some(p) = self.lock_plans().get(sql) {
            return Ok(Arc::clone(p));
        }
        let planned = Arc::new(if sql.len() <= crate::planner::ON_LANE_BYTES {
            litescale_router::plan_in(sql, &self.context)?
        } else {
            crate::planner::plan_off_lane(self, sql, timeout).await?
        });
        let mut cache = self.lock_plans();
        if cache.len() >= self.plan_cache {
            cache.pop_lru();
        }
        cache.put(sql.to_owned(), Arc::clone(&planned));
        Ok(planned)
    }

    fn lock_plans(
        &self,
    ) -> std::sync::MutexGuard<'_, LruCache<String, Arc<Vec<PlannedStatement>>>> {
        self.plans.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Plans a statement for the extended protocol, which takes exactly one.
    pub async fn prepare(
        &self,
        sql: &str,
        timeout: Option<std::time::Duration>,
    ) -> Result<Prepared, SqlError> {
        let plans = self.plan(sql, timeout).await?;
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
                } else if let StatementKind::SignalBackend { column, .. } = &planned.kind {
                    vec![(column.clone(), PgType::Bool)]
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
            &litescale_config::LimitsConfig {
                statement_cache: 2,
                ..Default::default()
            },
        )
    }

    #[tokio::test]
    async fn a_repeated_statement_is_parsed_once() {
        let dir = tempfile::tempdir().unwrap();
        let s = session(dir.path());
        let first = s.plan("SELECT 1", None).await.unwrap();
        let again = s.plan("SELECT 1", None).await.unwrap();
        assert!(
            Arc::ptr_eq(&first, &again),
            "second plan came from the cache"
        );
        // The cache is bounded: older entries make room for newer ones.
        s.plan("SELECT 2", None).await.unwrap();
        s.plan("SELECT 3", None).await.unwrap();
        assert!(!Arc::ptr_eq(
            &first,
            &s.plan("SELECT 1", None).await.unwrap()
        ));
    }

    #[tokio::test]
    async fn prepare_takes_exactly_one_statement() {
        let dir = tempfile::tempdir().unwrap();
        let s = session(dir.path());
        assert!(s.prepare("SELECT 1", None).await.is_ok());
        assert_eq!(
            s.prepare("SELECT 1; SELECT 2", None)
                .await
                .err()
                .unwrap()
                .sqlstate,
            "42601"
        );
    }
}
