//! One client connection's session: its database, its transaction block, its settings,
//! its plan cache, and the handles through which it is reached from outside (cancel,
//! termination, the writers its block holds as SHOW CLIENTS sees them).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use litescale_config::PartitionMap;
use litescale_router::{PlannedStatement, SessionContext, TableDefinition};
use litescale_shard::{ColumnMeta, Database, Outcome, Partition, Transaction, TxLog, Value};
use lru::LruCache;
use pgwire::messages::response::TransactionStatus;

use crate::error::SqlError;
use crate::session::advisory_locks::{AdvisoryLocks, SessionLocks};
use crate::session::column_cache::{ColumnCache, SchemaChangeMark};
use crate::session::coordinator::locks::{WaitGraph, sequence};
use crate::session::copy_in::CopyIn;
use crate::session::interrupts::cancel::CancelTarget;
use crate::session::interrupts::control::ConnectionControl;
use crate::session::interrupts::signal::BackendSignals;
use crate::session::notifications::{Listener, Notifications};
use crate::session::settings::Settings;

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
    pub(crate) control: Option<Arc<ConnectionControl>>,
    /// The server's sessions, for pg_cancel_backend and pg_terminate_backend (absent in
    /// unit tests).
    pub(crate) backends: Option<Arc<dyn BackendSignals>>,
    /// The user is an admin: may signal any session.
    pub(crate) admin: bool,
    /// `[limits] idle_in_transaction_writer_timeout_ms`: the longest a block that holds a
    /// writer may wait for its client.
    pub(crate) writer_idle_timeout: Option<std::time::Duration>,
    /// The writers this session's block holds, for SHOW CLIENTS.
    pub(crate) holding: Arc<WriterHolding>,
    /// Which partition owns what.
    pub map: Arc<PartitionMap>,
    /// Who and where the session is, for `current_user`, `current_database()`, ...
    pub(crate) context: SessionContext,
    pub cancel: Arc<CancelTarget>,
    /// Parsed statements by query text, so a repeated statement is not parsed again.
    pub(super) plans: Mutex<LruCache<String, Arc<Vec<PlannedStatement>>>>,
    /// Plans kept at most.
    pub(super) plan_cache: usize,
    /// Longest query text planned; a longer one gets 54000.
    pub(super) max_query_bytes: usize,
    /// What one statement's merged result may hold (`limits.max_result_mb`).
    pub max_result_bytes: usize,
    /// Tables' columns, shared by the server's sessions, for plans that need them.
    pub(crate) column_cache: Arc<ColumnCache>,
    /// Plans made with the columns, by statement, with the schema generation they saw.
    pub(super) typed_plans: Mutex<LruCache<String, (u64, Arc<PlannedStatement>)>>,
    pub state: tokio::sync::Mutex<SessionState>,
    /// The advisory locks the session holds; released when it ends.
    pub(crate) advisory: SessionLocks,
    /// The channels the session LISTENs on, and what reaches them. Locked by the
    /// connection while it waits for its client, to tell it what arrives meanwhile.
    pub(crate) listener: tokio::sync::Mutex<Listener>,
}

/// A session's links to the running server (see [`Session::attached`]).
pub(crate) struct Attachments {
    /// The connection's off-switch.
    pub control: Option<Arc<ConnectionControl>>,
    /// Every database, kept when the user may create and drop databases.
    pub storage: Arc<litescale_shard::Storage>,
    pub may_create_databases: bool,
    pub backends: Arc<dyn BackendSignals>,
    pub admin: bool,
    pub writer_idle_timeout: Option<std::time::Duration>,
    pub column_cache: Arc<ColumnCache>,
    /// The server's advisory locks.
    pub advisory_locks: Arc<AdvisoryLocks>,
    /// The server's notifications.
    pub notifications: Arc<Notifications>,
}

pub struct SessionState {
    pub(crate) block: Block,
    pub(crate) settings: Settings,
    /// A COPY FROM STDIN in progress.
    pub(crate) copy_in: Option<CopyIn>,
    /// When the session last answered its client: idle since then.
    pub(crate) idle_since: std::time::Instant,
    /// The idle-in-transaction watcher, if one runs, and when it next wakes.
    pub(crate) idle_watch: Option<(tokio::time::Instant, tokio::task::AbortHandle)>,
    /// Statements prepared by SQL's PREPARE: name → (text, parameters' declared types).
    pub(crate) sql_prepared: std::collections::HashMap<String, (String, Vec<String>)>,
    /// The open block's NOTIFYs, sent when it commits: (savepoints in force, channel,
    /// payload).
    pub(crate) notifies: Vec<(usize, String, String)>,
    /// Cursors DECLARE opened.
    pub(crate) cursors: crate::session::cursors::Cursors,
    /// The role the session's statements run as when it is not a superuser: what GRANT
    /// and REVOKE allowed it decides what they may do (shard engine/privileges).
    pub(crate) restricted_role: Option<String>,
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
    pub settings_before: Settings,
    /// Settings the block SET LOCAL, each with the settings before the first such SET:
    /// what they return to when it ends.
    pub set_locally: Vec<(String, Settings)>,
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
    pub hold: Option<HoldMark>,
    /// The block ran DDL: when it ends, the shared column cache forgets what it holds.
    pub schema_change: Option<SchemaChangeMark>,
}

impl OpenBlock {
    /// Keeps `txn`, the block's writer transaction on `partition`.
    pub(crate) fn took_writer(&mut self, session: &Session, partition: usize, txn: Transaction) {
        self.hold
            .get_or_insert_with(|| HoldMark::new(&session.holding))
            .add(partition);
        self.txns.insert(partition, txn);
    }
}

/// The partitions whose writer a session's transaction block holds, and since when,
/// readable without the session's state (which a running statement keeps locked), for
/// SHOW CLIENTS.
#[derive(Default)]
pub(crate) struct WriterHolding(Mutex<Option<(Vec<usize>, SystemTime)>>);

impl WriterHolding {
    pub(crate) fn get(&self) -> Option<(Vec<usize>, SystemTime)> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Kept by a transaction block that holds writers; dropped with the block, which ends the
/// holding.
pub(crate) struct HoldMark(Arc<WriterHolding>);

impl HoldMark {
    pub(crate) fn new(holding: &Arc<WriterHolding>) -> HoldMark {
        HoldMark(Arc::clone(holding))
    }

    pub(crate) fn add(&self, partition: usize) {
        let mut held = self.0.0.lock().unwrap_or_else(|e| e.into_inner());
        let (partitions, _) = held.get_or_insert_with(|| (Vec::new(), SystemTime::now()));
        partitions.push(partition);
    }
}

impl Drop for HoldMark {
    fn drop(&mut self) {
        *self.0.0.lock().unwrap_or_else(|e| e.into_inner()) = None;
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
        let owner = sequence();
        Session {
            advisory: SessionLocks::new(Arc::default(), owner, context.database.clone()),
            listener: tokio::sync::Mutex::new(Listener::new(
                Arc::default(),
                context.database.clone(),
            )),
            partitions: database.partitions,
            txlog: database.txlog,
            wait_graph,
            owner,
            map,
            context,
            cancel,
            // Grown as statements come: LruCache::new would allocate room for all of them
            // at once, which for an idle connection is most of its memory.
            plans: Mutex::new(LruCache::unbounded()),
            plan_cache: limits.statement_cache.max(1),
            max_query_bytes: limits.max_query_bytes,
            max_result_bytes: limits.max_result_bytes(),
            column_cache: Arc::default(),
            typed_plans: Mutex::new(LruCache::unbounded()),
            state: tokio::sync::Mutex::new(SessionState {
                block: Block::Idle,
                settings,
                copy_in: None,
                idle_since: std::time::Instant::now(),
                idle_watch: None,
                sql_prepared: std::collections::HashMap::new(),
                cursors: Default::default(),
                notifies: Vec::new(),
                restricted_role: None,
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
        // Admins are the superusers (every user when no [[users]] are configured).
        self.state.get_mut().restricted_role = (!to.admin).then(|| self.context.user.clone());
        self.writer_idle_timeout = to.writer_idle_timeout;
        self.column_cache = to.column_cache;
        self.advisory =
            SessionLocks::new(to.advisory_locks, self.owner, self.context.database.clone());
        self.listener = tokio::sync::Mutex::new(Listener::new(
            to.notifications,
            self.context.database.clone(),
        ));
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

    /// Sends notifications its transaction committed.
    pub(crate) async fn publish(&self, sent: Vec<(String, String)>) {
        self.listener
            .lock()
            .await
            .publish(self.context.backend_pid, sent);
    }

    /// Why the connection is being ended from outside, once: the caller sends it as
    /// FATAL and ends the connection.
    pub(crate) fn termination(&self) -> Option<SqlError> {
        self.control.as_ref().and_then(|c| c.reason())
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

    /// `sql` as the engine must run it for this session: as its role, in its TimeZone.
    pub(crate) fn for_engine(&self, sql: &str) -> String {
        self.as_role(&self.settings.zone().statement(sql.to_owned()))
    }

    /// `sql` marked with the session's role, unless it is a superuser's.
    pub(crate) fn as_role(&self, sql: &str) -> String {
        match &self.restricted_role {
            Some(role) => litescale_shard::statement_as_role(role, sql),
            None => sql.to_owned(),
        }
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

    /// Each table's definition as SQLite keeps it (CREATE TABLE, then its indexes and
    /// triggers), for an ALTER TABLE that makes it again; seen as [`Self::table_columns`]
    /// sees the columns.
    pub(crate) async fn table_definitions(
        &mut self,
        session: &Session,
        tables: Vec<String>,
    ) -> Result<Vec<(String, TableDefinition)>, SqlError> {
        // The views whose text names the table come last (the router reads their queries).
        const SQL: &str = "SELECT type, name, sql FROM (\
              SELECT type, name, sql, rowid AS created FROM main.sqlite_schema \
              WHERE tbl_name = ?1 COLLATE NOCASE AND sql IS NOT NULL \
              UNION ALL SELECT 'view', name, sql, rowid FROM main.sqlite_schema \
              WHERE type = 'view' AND instr(lower(sql), lower(?1)) > 0 \
                AND tbl_name <> ?1 COLLATE NOCASE) \
            ORDER BY type = 'view', type <> 'table', created";
        let mut out = Vec::with_capacity(tables.len());
        for table in tables {
            let params = vec![Value::Text(table.clone())];
            let interrupter = session.cancel.interrupter();
            let outcome = match self.held_writer() {
                Some(t) => Some(t.execute(SQL.to_owned(), params, interrupter).await?),
                None => {
                    session.partitions[0]
                        .read(SQL.to_owned(), params, interrupter)
                        .await?
                }
            };
            let Some(Outcome::Rows(rows)) = outcome else {
                continue;
            };
            let text = |v: &Value| match v {
                Value::Text(s) => s.clone(),
                _ => String::new(),
            };
            let mut rows = rows.rows.iter();
            let Some(create) = rows.next().filter(|r| text(&r[0]) == "table") else {
                continue;
            };
            let (views, dependents) = rows
                .map(|r| (text(&r[0]) == "view", (text(&r[1]), text(&r[2]))))
                .partition::<Vec<_>, _>(|(view, _)| *view);
            let unpaired = |rows: Vec<(bool, (String, String))>| rows.into_iter().map(|(_, r)| r);
            out.push((
                table,
                TableDefinition {
                    create: text(&create[2]),
                    dependents: unpaired(dependents).collect(),
                    views: unpaired(views).collect(),
                },
            ));
        }
        Ok(out)
    }

    pub(super) async fn describe_sql(
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
