//! Running planned statements: transaction blocks as Postgres defines them, reads on
//! readers, writes on each partition's single writer, and writes to several partitions
//! as one transaction committed by the coordinator.

use std::borrow::Cow;
use std::collections::BTreeMap;

use litescale_config::KeyValue;
use litescale_router::{
    BackendPid, CopyDirection, CopyFormat, CopySpec, Hint, Isolation, PlannedStatement, Route,
    Signal, StatementKind, WriteKind, route, scatter, split_insert,
};
use litescale_shard::{ColumnMeta, Outcome, RowStream, Rows, SmallRead, Transaction, Value};

use crate::coordinator::{commit_across, lock_writer};
use crate::error::SqlError;
use crate::session::{Block, OpenBlock, SchemaSnapshot, Session, SessionState};

/// A running statement_timeout: when it runs out it cancels the statement as a
/// CancelRequest would (the running SQLite statement, or a wait for a writer), never a
/// commit. Dropping it stops it.
#[derive(Debug)]
pub struct StatementTimer {
    task: tokio::task::AbortHandle,
    fired: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl StatementTimer {
    pub(crate) fn start(session: &Session, limit: std::time::Duration) -> StatementTimer {
        let target = std::sync::Arc::clone(&session.cancel);
        let fired = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&fired);
        let task = tokio::spawn(async move {
            tokio::time::sleep(limit).await;
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            target.cancel();
        });
        StatementTimer {
            task: task.abort_handle(),
            fired,
        }
    }

    /// A cancel this timer caused says so, as Postgres does.
    pub fn explain(&self, mut e: SqlError) -> SqlError {
        if e.sqlstate == "57014" && self.fired.load(std::sync::atomic::Ordering::SeqCst) {
            e.message = "canceling statement due to statement timeout".to_owned();
        }
        e
    }
}

impl Drop for StatementTimer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What a statement answered.
#[derive(Debug)]
pub enum Executed {
    /// Rows, with the command tag that precedes the row count ("SELECT", "INSERT 0").
    Rows { rows: Rows, tag: &'static str },
    /// A complete command tag ("CREATE TABLE", "UPDATE 3").
    Command(String),
    /// COPY TO STDOUT: the rows to send, in the COPY's format.
    CopyOut { rows: Rows, format: CopyFormat },
    /// COPY TO STDOUT streamed from a reader, for a COPY outside a writing transaction.
    CopyOutStream { rows: RowStream, format: CopyFormat },
    /// A query's rows streamed from a reader as the client takes them, so a huge result
    /// never sits in memory. `timer` keeps statement_timeout running until it ends.
    RowsStream {
        rows: RowStream,
        timer: Option<StatementTimer>,
    },
    /// COPY FROM STDIN has started; the client sends this many columns per row.
    CopyIn { columns: usize },
}

#[derive(Debug)]
pub struct Reply {
    pub executed: Executed,
    /// A WARNING or NOTICE to send first (e.g. BEGIN inside a transaction block), with
    /// its severity.
    pub notice: Option<(&'static str, SqlError)>,
    /// A changed setting Postgres reports to clients with a ParameterStatus message.
    pub parameter_status: Option<(String, String)>,
}

impl Reply {
    fn command(tag: impl Into<String>) -> Reply {
        Reply {
            executed: Executed::Command(tag.into()),
            notice: None,
            parameter_status: None,
        }
    }

    fn warn(mut self, sqlstate: &'static str, message: impl Into<String>) -> Reply {
        self.notice = Some(("WARNING", SqlError::new(sqlstate, message)));
        self
    }

    fn notice(mut self, message: String) -> Reply {
        self.notice = Some(("NOTICE", SqlError::new("00000", message)));
        self
    }
}

/// Counts a statement run on a partition's reader or writer, for /metrics.
fn count_partition_statement(session: &Session, partition: usize, role: &'static str) {
    metrics::counter!(
        "litescale_partition_statements_total",
        "database" => session.context.database.clone(),
        "partition" => partition.to_string(),
        "role" => role,
    )
    .increment(1);
}

fn no_block_warning(reply: Reply) -> Reply {
    reply.warn("25P01", "there is no transaction in progress")
}

impl SessionState {
    /// Runs one statement. An error inside a transaction block fails the block, as in
    /// Postgres: everything but ROLLBACK is refused with 25P02 until it ends.
    pub async fn execute(
        &mut self,
        session: &Session,
        planned: &PlannedStatement,
        params: Vec<Value>,
    ) -> Result<Reply, SqlError> {
        if let Block::Open(b) = &self.block
            && b.failed
            && !matches!(
                planned.kind,
                StatementKind::Commit | StatementKind::Rollback | StatementKind::RollbackTo(_)
            )
        {
            return Err(SqlError::aborted_transaction());
        }
        if session.terminating() {
            // The connection is being ended: its answer is the FATAL reason (`wire.rs`).
            return Err(SqlError::canceled());
        }
        let started = std::time::Instant::now();
        let result = match self.settings.duration("statement_timeout") {
            None => self.dispatch(session, planned, params).await,
            Some(limit) => {
                let timer = StatementTimer::start(session, limit);
                match self.dispatch(session, planned, params).await {
                    // A streamed result keeps the timer until the client has its rows.
                    Ok(Reply {
                        executed: Executed::RowsStream { rows, .. },
                        notice,
                        parameter_status,
                    }) => Ok(Reply {
                        executed: Executed::RowsStream {
                            rows,
                            timer: Some(timer),
                        },
                        notice,
                        parameter_status,
                    }),
                    result => result.map_err(|e| timer.explain(e)),
                }
            }
        };
        crate::telemetry::record_statement(
            &session.context.database,
            crate::telemetry::kind_label(&planned.kind),
            started.elapsed(),
        );
        if let Err(e) = &result {
            tracing::info!(
                database = %session.context.database,
                pid = session.context.backend_pid,
                sqlstate = e.sqlstate,
                "statement failed: {}",
                e.message
            );
            self.fail_block();
        }
        result
    }

    /// Whether the session's transaction block holds a partition's writer; then every
    /// statement on that partition must run there to see the block's own writes.
    fn holds_writer(&self) -> bool {
        matches!(&self.block, Block::Open(b) if !b.txns.is_empty())
    }

    /// Whether the block reads in a snapshot of its own (`start_statement`).
    fn holds_snapshot(&self) -> bool {
        matches!(&self.block, Block::Open(b) if b.snapshot.is_some())
    }

    /// Opens the implicit transaction Postgres wraps around a multi-statement query.
    pub fn open_implicit(&mut self) {
        self.block = Block::Open(OpenBlock {
            txns: BTreeMap::new(),
            savepoints: Vec::new(),
            settings_before: self.settings.clone(),
            age: crate::coordinator::sequence(),
            failed: false,
            read_only: false,
            implicit: true,
            hold: None,
            serializable: false,
            started: false,
            snapshot: None,
        });
    }

    /// Ends the implicit transaction, if the query left one open: commit when every
    /// statement succeeded, else roll back.
    pub async fn close_implicit(
        &mut self,
        session: &Session,
        succeeded: bool,
    ) -> Result<(), SqlError> {
        if !matches!(&self.block, Block::Open(b) if b.implicit) {
            return Ok(());
        }
        let Block::Open(block) = std::mem::replace(&mut self.block, Block::Idle) else {
            return Ok(());
        };
        let commit = succeeded && !block.failed;
        self.end_block(session, block, commit).await
    }

    async fn dispatch(
        &mut self,
        session: &Session,
        planned: &PlannedStatement,
        params: Vec<Value>,
    ) -> Result<Reply, SqlError> {
        if matches!(
            planned.kind,
            StatementKind::Read
                | StatementKind::Write(_)
                | StatementKind::Ddl(_)
                | StatementKind::Copy(_)
        ) {
            self.start_statement(session).await?;
        }
        match &planned.kind {
            // Outside a block only: an error in the middle of the rows could not fail
            // the block it belongs to.
            StatementKind::Read if session.map.count() == 1 && self.is_idle() && !planned.batch => {
                count_partition_statement(session, 0, "reader");
                let small = session.partitions[0]
                    .read_if_small(
                        planned.sqlite_sql.clone(),
                        params.clone(),
                        session.cancel.interrupter(),
                        INLINE_RESULT_BYTES,
                    )
                    .await?;
                match small {
                    SmallRead::Done(Some(outcome)) => {
                        return Ok(Reply {
                            executed: executed(&planned.kind, outcome),
                            notice: None,
                            parameter_status: None,
                        });
                    }
                    // SQLite says the statement writes after all: it runs on the writer.
                    SmallRead::Done(None) => return self.run_reply(session, planned, params).await,
                    SmallRead::TooLarge => {}
                }
                // A copy for the writer, should SQLite find that the statement writes.
                let streamed = session.partitions[0]
                    .read_stream(
                        planned.sqlite_sql.clone(),
                        params.clone(),
                        session.cancel.interrupter(),
                    )
                    .await;
                match streamed {
                    Ok(rows) => Ok(Reply {
                        executed: Executed::RowsStream { rows, timer: None },
                        notice: None,
                        parameter_status: None,
                    }),
                    // SQLite says the statement writes after all: it runs on the writer.
                    Err(e) if e.sqlstate == "25006" => {
                        self.run_reply(session, planned, params).await
                    }
                    Err(e) => Err(e.into()),
                }
            }
            StatementKind::Read | StatementKind::Write(_) | StatementKind::Ddl(_) => {
                self.run_reply(session, planned, params).await
            }
            StatementKind::Copy(spec)
                if spec.direction == CopyDirection::Out
                    && session.map.count() == 1
                    && !self.holds_writer()
                    && !self.holds_snapshot() =>
            {
                let rows = session.partitions[0]
                    .read_stream(
                        planned.sqlite_sql.clone(),
                        params,
                        session.cancel.interrupter(),
                    )
                    .await?;
                Ok(Reply {
                    executed: Executed::CopyOutStream {
                        rows,
                        format: spec.format.clone(),
                    },
                    notice: None,
                    parameter_status: None,
                })
            }
            StatementKind::Copy(spec) if spec.direction == CopyDirection::Out => {
                // COPY TO of a partitioned table reads every partition, like its SELECT.
                let statement = if session.map.count() > 1 {
                    let mut select = planned.clone();
                    select.kind = StatementKind::Read;
                    Cow::Owned(select)
                } else {
                    Cow::Borrowed(planned)
                };
                let Outcome::Rows(rows) = self.run(session, &statement, params).await? else {
                    return Err(SqlError::new("XX000", "COPY query returned no columns"));
                };
                Ok(Reply {
                    executed: Executed::CopyOut {
                        rows,
                        format: spec.format.clone(),
                    },
                    notice: None,
                    parameter_status: None,
                })
            }
            StatementKind::Copy(spec) => {
                let columns = self.start_copy_in(session, spec).await?;
                Ok(Reply {
                    executed: Executed::CopyIn { columns },
                    notice: None,
                    parameter_status: None,
                })
            }
            StatementKind::Begin {
                isolation,
                read_only,
            } => self.begin(*isolation, *read_only),
            StatementKind::CreateDatabase {
                name,
                if_not_exists,
            } => {
                let storage = self.database_admin(session, "CREATE DATABASE")?;
                if name == crate::admin::ADMIN_DATABASE {
                    return Err(SqlError::new(
                        "42939",
                        format!("\"{name}\" is reserved for the admin console"),
                    ));
                }
                let created = storage.create_database(name, *if_not_exists)?;
                let reply = Reply::command("CREATE DATABASE");
                Ok(if created {
                    reply
                } else {
                    reply.notice(format!("database \"{name}\" already exists, skipping"))
                })
            }
            StatementKind::DropDatabase { name, if_exists } => {
                let storage = self.database_admin(session, "DROP DATABASE")?;
                if *name == session.context.database {
                    return Err(SqlError::new(
                        "55006",
                        "cannot drop the currently open database",
                    ));
                }
                let dropped = storage.drop_database(name, *if_exists)?;
                let reply = Reply::command("DROP DATABASE");
                Ok(if dropped {
                    reply
                } else {
                    reply.notice(format!("database \"{name}\" does not exist, skipping"))
                })
            }
            StatementKind::Commit => self.commit(session).await,
            StatementKind::Rollback => {
                let Block::Open(block) = std::mem::replace(&mut self.block, Block::Idle) else {
                    return Ok(no_block_warning(Reply::command("ROLLBACK")));
                };
                self.end_block(session, block, false).await?;
                Ok(Reply::command("ROLLBACK"))
            }
            StatementKind::Savepoint(name)
            | StatementKind::Release(name)
            | StatementKind::RollbackTo(name) => {
                self.savepoint(session, &planned.kind, name, &planned.sqlite_sql)
                    .await
            }
            // Prepared statements live in pgwire's store; the wire layer removes a named one
            // (`wire.rs`), and a statement prepared again under a used name replaces it.
            StatementKind::Deallocate(name) => Ok(Reply::command(match name {
                Some(_) => "DEALLOCATE",
                None => "DEALLOCATE ALL",
            })),
            StatementKind::Set { name, value } => {
                let status = self.settings.set(name, value.as_deref())?;
                let mut reply = Reply::command("SET");
                reply.parameter_status = status;
                Ok(reply)
            }
            StatementKind::Reset(name) => {
                let mut reply = Reply::command("RESET");
                match name {
                    Some(n) => reply.parameter_status = self.settings.set(n, None)?,
                    None => self.settings.reset_all(),
                }
                Ok(reply)
            }
            StatementKind::SetTransaction {
                isolation,
                read_only,
            } => self.set_transaction(*isolation, *read_only),
            StatementKind::SignalBackend {
                signal,
                pid,
                column,
            } => signal_backend(session, *signal, *pid, column, &params),
            StatementKind::Explain(inner) => Ok(Reply {
                executed: Executed::Rows {
                    rows: crate::explain::explain(session, inner),
                    tag: "EXPLAIN",
                },
                notice: None,
                parameter_status: None,
            }),
            StatementKind::Show(name) => {
                let pairs = if name == "all" {
                    self.settings.all()
                } else {
                    vec![(name.clone(), self.settings.show(name)?)]
                };
                Ok(Reply {
                    executed: Executed::Rows {
                        rows: show_rows(name, pairs),
                        tag: "SHOW",
                    },
                    notice: None,
                    parameter_status: None,
                })
            }
        }
    }

    /// A read, write or DDL statement, run where the partition map sends it.
    async fn run_reply(
        &mut self,
        session: &Session,
        planned: &PlannedStatement,
        params: Vec<Value>,
    ) -> Result<Reply, SqlError> {
        let outcome = self.run(session, planned, params).await?;
        Ok(Reply {
            executed: executed(&planned.kind, outcome),
            notice: None,
            parameter_status: None,
        })
    }

    /// The storage, for CREATE/DROP DATABASE, which cannot run inside a transaction block.
    fn database_admin(
        &self,
        session: &Session,
        command: &str,
    ) -> Result<std::sync::Arc<litescale_shard::Storage>, SqlError> {
        if !self.is_idle() {
            return Err(SqlError::new(
                "25001",
                format!("{command} cannot run inside a transaction block"),
            ));
        }
        session.storage.clone().ok_or_else(|| {
            SqlError::new(
                "42501",
                format!("permission denied: {command} needs a user with create_databases"),
            )
        })
    }

    fn begin(&mut self, isolation: Isolation, read_only: bool) -> Result<Reply, SqlError> {
        let read_only = read_only
            || self
                .settings
                .show("default_transaction_read_only")
                .is_ok_and(|v| crate::settings::is_on(&v));
        match &mut self.block {
            Block::Open(b) if b.implicit => {
                // BEGIN inside a multi-statement query turns its implicit block explicit.
                b.implicit = false;
                b.read_only = read_only;
                b.serializable = isolation == Isolation::Serializable;
                Ok(Reply::command("BEGIN"))
            }
            Block::Open(_) => {
                Ok(Reply::command("BEGIN")
                    .warn("25001", "there is already a transaction in progress"))
            }
            Block::Idle => {
                self.block = Block::Open(OpenBlock {
                    txns: BTreeMap::new(),
                    savepoints: Vec::new(),
                    settings_before: self.settings.clone(),
                    age: crate::coordinator::sequence(),
                    failed: false,
                    read_only,
                    implicit: false,
                    hold: None,
                    serializable: isolation == Isolation::Serializable,
                    started: false,
                    snapshot: None,
                });
                Ok(Reply::command("BEGIN"))
            }
        }
    }

    /// Called before each statement that reads or writes data. The first one of a
    /// SERIALIZABLE (or REPEATABLE READ) block takes its snapshot, as Postgres does at a
    /// block's first statement: a read transaction held on one reader, so every read of
    /// the block sees the same data and no writer waits for a block that only reads,
    /// however long it stays open. Its first write takes the writer only if nothing has
    /// committed since the snapshot (else 40001, Postgres' serialization failure, and the
    /// client retries); from then on every statement runs on the writer, one transaction
    /// after another, which is serializable. With worker processes, whose reader links
    /// keep no transaction, the block takes the writer at once instead.
    ///
    /// With several partitions the writer is only known at the first write.
    async fn start_statement(&mut self, session: &Session) -> Result<(), SqlError> {
        let Block::Open(block) = &mut self.block else {
            return Ok(());
        };
        if block.started {
            return Ok(());
        }
        block.started = true;
        if !block.serializable || session.map.count() != 1 {
            return Ok(());
        }
        block.snapshot = session.partitions[0].snapshot()?.map(Box::new);
        if block.snapshot.is_none() {
            self.writer_in_block(session, "SELECT", 0).await?;
        }
        Ok(())
    }

    /// `SET TRANSACTION`: the open block's isolation (before its first statement, as in
    /// Postgres) and access mode.
    fn set_transaction(
        &mut self,
        isolation: Option<Isolation>,
        read_only: Option<bool>,
    ) -> Result<Reply, SqlError> {
        let Block::Open(block) = &mut self.block else {
            return Ok(Reply::command("SET").warn(
                "25P01",
                "SET TRANSACTION can only be used in transaction blocks",
            ));
        };
        if let Some(isolation) = isolation {
            if block.started {
                return Err(SqlError::new(
                    "25001",
                    "SET TRANSACTION ISOLATION LEVEL must be called before any query",
                ));
            }
            block.serializable = isolation == Isolation::Serializable;
        }
        match read_only {
            Some(true) => block.read_only = true,
            Some(false) if block.read_only && block.started => {
                return Err(SqlError::new(
                    "25001",
                    "transaction read-write mode must be set before any query",
                ));
            }
            Some(false) => block.read_only = false,
            None => {}
        }
        Ok(Reply::command("SET"))
    }

    async fn commit(&mut self, session: &Session) -> Result<Reply, SqlError> {
        let Block::Open(block) = std::mem::replace(&mut self.block, Block::Idle) else {
            return Ok(no_block_warning(Reply::command("COMMIT")));
        };
        if block.failed {
            self.end_block(session, block, false).await?;
            return Ok(Reply::command("ROLLBACK"));
        }
        self.end_block(session, block, true).await?;
        Ok(Reply::command("COMMIT"))
    }

    /// Ends a block: a commit of one partition is its own commit, of several the
    /// coordinator's all-or-nothing commit; a rollback also undoes the block's SETs.
    async fn end_block(
        &mut self,
        session: &Session,
        block: OpenBlock,
        commit: bool,
    ) -> Result<(), SqlError> {
        let mut txns = block.txns;
        if !commit {
            self.settings = block.settings_before;
            for txn in txns.into_values() {
                txn.rollback().await?;
            }
            return Ok(());
        }
        match txns.len() {
            0 => Ok(()),
            1 => {
                let (_, txn) = txns.pop_first().expect("one");
                Ok(txn.commit().await?)
            }
            _ => commit_across(session, txns).await,
        }
    }

    /// SAVEPOINT, RELEASE and ROLLBACK TO, on every partition the block writes. The
    /// block remembers its savepoints for partitions it writes later.
    async fn savepoint(
        &mut self,
        session: &Session,
        kind: &StatementKind,
        name: &str,
        sql: &str,
    ) -> Result<Reply, SqlError> {
        let (tag, command) = match kind {
            StatementKind::Savepoint(_) => ("SAVEPOINT", "SAVEPOINT"),
            StatementKind::Release(_) => ("RELEASE", "RELEASE SAVEPOINT"),
            _ => ("ROLLBACK", "ROLLBACK TO SAVEPOINT"),
        };
        let Block::Open(block) = &mut self.block else {
            return Err(SqlError::new(
                "25P01",
                format!("{command} can only be used in transaction blocks"),
            ));
        };
        let position = block.savepoints.iter().rposition(|s| s == name);
        if position.is_none() && !matches!(kind, StatementKind::Savepoint(_)) {
            return Err(SqlError::new(
                "3B001",
                format!("savepoint \"{name}\" does not exist"),
            ));
        }
        for txn in block.txns.values_mut() {
            txn.execute(sql.to_owned(), Vec::new(), session.cancel.interrupter())
                .await?;
        }
        match (kind, position) {
            (StatementKind::Savepoint(_), _) => block.savepoints.push(name.to_owned()),
            (StatementKind::Release(_), Some(p)) => block.savepoints.truncate(p),
            (_, Some(p)) => {
                block.savepoints.truncate(p + 1);
                block.failed = false;
            }
            _ => {}
        }
        Ok(Reply::command(tag))
    }

    /// The block's writer transaction on `partition`, taking that partition's writer at
    /// the block's first write there. In a partitioned database the transaction records
    /// its changes, in case the block goes on to write another partition.
    pub(crate) async fn writer_in_block(
        &mut self,
        session: &Session,
        what: &str,
        partition: usize,
    ) -> Result<&mut Transaction, SqlError> {
        let Block::Open(block) = &mut self.block else {
            return Err(SqlError::new(
                "25P01",
                format!("{what} can only be used in transaction blocks"),
            ));
        };
        if !block.txns.contains_key(&partition) {
            let held_by_age = (!block.txns.is_empty()).then_some(block.age);
            let writer = lock_writer(session, partition, held_by_age).await?;
            // A SERIALIZABLE block read in a snapshot so far: it may write only if the
            // writer sees what it saw.
            if let Some(snapshot) = block.snapshot.take()
                && !snapshot.is_current(&writer)
            {
                return Err(SqlError::new(
                    "40001",
                    "could not serialize access due to concurrent update",
                ));
            }
            let mut txn = if session.map.count() > 1 {
                writer.begin_recorded().await?
            } else {
                writer.begin().await?
            };
            for name in &block.savepoints {
                txn.execute(
                    format!("SAVEPOINT \"{}\"", name.replace('"', "\"\"")),
                    Vec::new(),
                    session.cancel.interrupter(),
                )
                .await?;
            }
            block.took_writer(session, partition, txn);
        }
        Ok(block.txns.get_mut(&partition).expect("just taken"))
    }

    /// Runs a read, write or DDL statement where the partition map sends it.
    async fn run(
        &mut self,
        session: &Session,
        planned: &PlannedStatement,
        params: Vec<Value>,
    ) -> Result<Outcome, SqlError> {
        if planned.kind == StatementKind::Ddl("VACUUM") {
            return self.vacuum_everywhere(session, planned).await;
        }
        if session.map.count() == 1 {
            return self.run_on(session, planned, params, 0).await;
        }
        let keys: Vec<Option<KeyValue>> = params
            .iter()
            .map(|v| match v {
                Value::Integer(i) => Some(KeyValue::Int(*i)),
                Value::Text(t) => Some(KeyValue::Text(t.clone())),
                _ => None,
            })
            .collect();
        let refused = |why: String| SqlError::new("0A000", why);
        // `SET litescale.partition = N` routes the session's statements, like a hint.
        let overridden;
        let planned = match (self.settings.show(PARTITION_SETTING), &planned.hint) {
            (Ok(value), None) if !value.is_empty() => {
                let n = value.parse().map_err(|_| {
                    SqlError::new(
                        "22023",
                        format!("{PARTITION_SETTING} must be a partition number, not \"{value}\""),
                    )
                })?;
                overridden = {
                    let mut hinted = planned.clone();
                    hinted.hint = Some(Hint::Partition(n));
                    hinted
                };
                &overridden
            }
            _ => planned,
        };
        // An INSERT without a column list is routed by the table's column order.
        let schema = if matches!(planned.kind, StatementKind::Write(WriteKind::Insert)) {
            SchemaSnapshot(self.table_columns(session, planned.tables()).await?)
        } else {
            SchemaSnapshot(Vec::new())
        };
        let targets: Vec<usize> = match route(planned, &session.map, &keys, &schema) {
            Route::Refused(why) => return Err(refused(why)),
            Route::Misplaced(why) => return Err(SqlError::new("23514", why)),
            Route::Partitions(p) if p.len() == 1 => {
                let only = p.into_iter().next().unwrap_or(0);
                return self.run_on(session, planned, params, only).await;
            }
            Route::Partitions(p) => p.into_iter().collect(),
            Route::All => (0..session.partitions.len()).collect(),
        };
        if planned.kind == StatementKind::Read {
            return self.scatter_read(session, planned, params, &targets).await;
        }
        let parts: Vec<(usize, String, Option<Vec<usize>>)> =
            match split_insert(planned, &session.map, &keys, &schema, &session.context) {
                Some(split) => split
                    .map_err(refused)?
                    .into_iter()
                    .map(|part| (part.partition, part.sql, Some(part.rows)))
                    .collect(),
                None => targets
                    .into_iter()
                    .map(|p| (p, planned.sqlite_sql.clone(), None))
                    .collect(),
            };
        // A write to several partitions is one transaction: outside a block, its own.
        let own_block = self.is_idle();
        if own_block {
            self.open_implicit();
        }
        let written = self.write_parts(session, planned, params, parts).await;
        if own_block {
            self.close_implicit(session, written.is_ok()).await?;
        }
        written
    }

    /// Runs a write's part on each partition, inside the session's block, and puts the
    /// results together: counts add up, RETURNING rows come back in the client's order.
    async fn write_parts(
        &mut self,
        session: &Session,
        planned: &PlannedStatement,
        params: Vec<Value>,
        parts: Vec<(usize, String, Option<Vec<usize>>)>,
    ) -> Result<Outcome, SqlError> {
        if matches!(&self.block, Block::Open(b) if b.read_only) {
            return Err(SqlError::new(
                "25006",
                format!(
                    "cannot execute {} in a read-only transaction",
                    command_name(&planned.kind)
                ),
            ));
        }
        let mut changed = 0;
        let mut returned: Option<Rows> = None;
        let mut placed_rows: Vec<(usize, Vec<Value>)> = Vec::new();
        let mut in_order = true;
        for (partition, sql, rows_of_part) in parts {
            let what = command_name(&planned.kind);
            let txn = self.writer_in_block(session, what, partition).await?;
            let outcome = if matches!(planned.kind, StatementKind::Ddl(_)) {
                txn.execute_schema_change(sql).await?
            } else {
                txn.execute(sql, params.clone(), session.cancel.interrupter())
                    .await?
            };
            match outcome {
                Outcome::Changed(n) => changed += n,
                Outcome::Rows(rows) => {
                    match &rows_of_part {
                        Some(indexes) if indexes.len() == rows.rows.len() => placed_rows
                            .extend(indexes.iter().copied().zip(rows.rows.iter().cloned())),
                        _ => in_order = false,
                    }
                    let all = returned.get_or_insert_with(|| Rows {
                        columns: rows.columns.clone(),
                        rows: Vec::new(),
                    });
                    all.rows.extend(rows.rows);
                }
            }
        }
        Ok(match returned {
            Some(mut all) => {
                // RETURNING of a split INSERT: each row back where the client put it.
                if in_order && !placed_rows.is_empty() {
                    placed_rows.sort_by_key(|(i, _)| *i);
                    all.rows = placed_rows.into_iter().map(|(_, r)| r).collect();
                }
                Outcome::Rows(all)
            }
            None => Outcome::Changed(changed),
        })
    }

    /// VACUUM cannot run in a transaction (in Postgres or SQLite): it runs on each
    /// partition in turn. It changes no data, so a partition it missed loses nothing.
    async fn vacuum_everywhere(
        &mut self,
        session: &Session,
        planned: &PlannedStatement,
    ) -> Result<Outcome, SqlError> {
        if !self.is_idle() {
            return Err(SqlError::new(
                "25001",
                "VACUUM cannot run inside a transaction block",
            ));
        }
        for i in 0..session.partitions.len() {
            self.run_on(session, planned, Vec::new(), i).await?;
        }
        Ok(Outcome::Changed(0))
    }

    /// A read on several partitions, merged as the router planned.
    async fn scatter_read(
        &mut self,
        session: &Session,
        planned: &PlannedStatement,
        params: Vec<Value>,
        targets: &[usize],
    ) -> Result<Outcome, SqlError> {
        let plan = scatter(planned, &session.context).map_err(|why| SqlError::new("0A000", why))?;
        let mut rows = Vec::new();
        // Each partition bounds its own part; the merge holds all of them at once.
        let mut held = 0usize;
        for &p in targets {
            let sql = plan.partition_sql.clone();
            let interrupter = session.cancel.interrupter();
            // A transaction reads its own writes on the partitions it writes.
            let own = match &mut self.block {
                Block::Open(b) => b.txns.get_mut(&p),
                Block::Idle => None,
            };
            let outcome = match own {
                Some(t) => t.execute(sql, params.clone(), interrupter).await?,
                None => session.partitions[p]
                    .read(sql, params.clone(), interrupter)
                    .await?
                    .ok_or_else(|| {
                        SqlError::new("0A000", "a read on several partitions may not write")
                    })?,
            };
            if let Outcome::Rows(r) = outcome {
                held += r
                    .rows
                    .iter()
                    .flatten()
                    .map(Value::held_bytes)
                    .sum::<usize>();
                if held > session.max_result_bytes {
                    return Err(litescale_shard::result_too_large(session.max_result_bytes).into());
                }
                rows.extend(r.rows);
            }
        }
        let rows = crate::merge::merge(rows, &plan.merge);
        // The partitions may return extra columns (AVG as sum and count), which the merge
        // folds back: the result has the statement's own columns.
        let columns = session.partitions[0]
            .describe(planned.sqlite_sql.clone())
            .await?;
        Ok(Outcome::Rows(Rows { columns, rows }))
    }

    async fn run_on(
        &mut self,
        session: &Session,
        planned: &PlannedStatement,
        params: Vec<Value>,
        target: usize,
    ) -> Result<Outcome, SqlError> {
        let partition = &session.partitions[target];
        let sql = planned.sqlite_sql.clone();
        let interrupter = session.cancel.interrupter();
        let is_read = matches!(
            &planned.kind,
            StatementKind::Read
                | StatementKind::Copy(CopySpec {
                    direction: CopyDirection::Out,
                    ..
                })
        );
        if sql.is_empty() {
            // Nothing for SQLite to do (plain VACUUM).
            return Ok(Outcome::Changed(0));
        }
        // Reads of another partition than the one the transaction writes go to readers.
        let (holds_writer, read_only) = match &self.block {
            Block::Idle => (false, false),
            Block::Open(b) => (b.txns.contains_key(&target), b.read_only),
        };
        let refuse = || {
            SqlError::new(
                "25006",
                format!(
                    "cannot execute {} in a read-only transaction",
                    command_name(&planned.kind)
                ),
            )
        };
        if read_only && !is_read {
            return Err(refuse());
        }
        let role = if is_read && !holds_writer {
            "reader"
        } else {
            "writer"
        };
        count_partition_statement(session, target, role);
        if is_read && !holds_writer {
            // The reader reports `None` when SQLite finds the statement writes after all.
            let read = match &mut self.block {
                Block::Open(OpenBlock {
                    snapshot: Some(snapshot),
                    ..
                }) => {
                    snapshot
                        .read(sql.clone(), params.clone(), interrupter.clone())
                        .await?
                }
                _ => {
                    partition
                        .read(sql.clone(), params.clone(), interrupter.clone())
                        .await?
                }
            };
            if let Some(outcome) = read {
                return Ok(outcome);
            }
            if read_only {
                return Err(refuse());
            }
        }
        if self.is_idle() {
            if planned.kind != StatementKind::Ddl("VACUUM") && !planned.batch {
                // One fsync for every session's autocommit writes that queue meanwhile.
                return Ok(partition
                    .write_grouped(
                        sql,
                        params,
                        session.cancel.interrupter(),
                        session.cancel.canceled(),
                    )
                    .await?);
            }
            let writer = lock_writer(session, target, None).await?;
            if planned.kind == StatementKind::Ddl("VACUUM") {
                return Ok(writer.maintain(sql).await?);
            }
            return Ok(writer.write_batch(sql).await?);
        }
        let txn = self
            .writer_in_block(session, command_name(&planned.kind), target)
            .await?;
        if session.map.count() > 1 && matches!(planned.kind, StatementKind::Ddl(_)) {
            return Ok(txn.execute_schema_change(sql).await?);
        }
        if planned.batch {
            return Ok(txn.execute_batch(sql).await?);
        }
        Ok(txn.execute(sql, params, interrupter).await?)
    }
}

/// `SELECT pg_cancel_backend(pid)` / `pg_terminate_backend(pid)`: true when the session
/// was signalled, false (with a warning) when there is none, NULL for a NULL pid. Ending
/// one's own session ends it at once, as in Postgres.
fn signal_backend(
    session: &Session,
    signal: Signal,
    pid: BackendPid,
    column: &str,
    params: &[Value],
) -> Result<Reply, SqlError> {
    let pid = match pid {
        BackendPid::Pid(pid) => Some(pid),
        BackendPid::Null => None,
        BackendPid::Param(n) => match params.get(n - 1) {
            Some(Value::Integer(i)) => Some(
                i32::try_from(*i).map_err(|_| SqlError::new("22003", "integer out of range"))?,
            ),
            _ => None,
        },
    };
    let answered = match pid {
        None => None,
        Some(pid) if pid == session.context.backend_pid => {
            return Err(match signal {
                Signal::Cancel => SqlError::canceled(),
                Signal::Terminate => {
                    session.terminate(crate::backends::terminated_by_administrator());
                    crate::backends::terminated_by_administrator()
                }
            });
        }
        Some(pid) => {
            let backends = session.backends.as_ref().ok_or_else(|| {
                SqlError::new(
                    "0A000",
                    format!("{}() needs a running server", signal.function()),
                )
            })?;
            let sender = crate::backends::Sender::User {
                name: &session.context.user,
                admin: session.admin,
            };
            Some((pid, backends.signal(pid, signal, sender)?))
        }
    };
    let rows = Rows {
        columns: vec![ColumnMeta {
            name: column.to_owned(),
            decl_type: Some("boolean".to_owned()),
        }],
        rows: vec![vec![answered.map_or(Value::Null, |(_, found)| {
            Value::Integer(i64::from(found))
        })]],
    };
    let reply = Reply {
        executed: Executed::Rows {
            rows,
            tag: "SELECT",
        },
        notice: None,
        parameter_status: None,
    };
    Ok(match answered {
        Some((pid, false)) => reply.warn(
            "01000",
            format!("PID {pid} is not a litescale backend process"),
        ),
        _ => reply,
    })
}

/// The session setting that pins statements to one partition.
/// A read outside a block whose result holds up to this many bytes is answered whole from
/// the caller's thread (a point select needs no hand-off); a larger one is run again as a
/// stream, so that no connection holds a large result.
const INLINE_RESULT_BYTES: usize = 64 << 10;

const PARTITION_SETTING: &str = "litescale.partition";

fn command_name(kind: &StatementKind) -> &'static str {
    match kind {
        StatementKind::Write(WriteKind::Insert) => "INSERT",
        StatementKind::Write(WriteKind::Update) => "UPDATE",
        StatementKind::Write(WriteKind::Delete) => "DELETE",
        StatementKind::Ddl(tag) => tag,
        _ => "SELECT",
    }
}

fn executed(kind: &StatementKind, outcome: Outcome) -> Executed {
    match outcome {
        Outcome::Rows(mut rows) => {
            crate::values::encode::pad_fixed_width(&mut rows);
            Executed::Rows {
                rows,
                tag: match kind {
                    StatementKind::Write(WriteKind::Insert) => "INSERT 0",
                    other => command_name(other),
                },
            }
        }
        Outcome::Changed(n) => Executed::Command(match kind {
            StatementKind::Write(WriteKind::Insert) => format!("INSERT 0 {n}"),
            StatementKind::Write(_) => format!("{} {n}", command_name(kind)),
            StatementKind::Read => "SELECT 0".to_owned(),
            other => command_name(other).to_owned(),
        }),
    }
}

fn show_rows(name: &str, pairs: Vec<(String, String)>) -> Rows {
    let text = || Some("text".to_owned());
    let columns = if name == "all" {
        vec![
            ColumnMeta {
                name: "name".into(),
                decl_type: text(),
            },
            ColumnMeta {
                name: "setting".into(),
                decl_type: text(),
            },
        ]
    } else {
        vec![ColumnMeta {
            name: name.to_owned(),
            decl_type: text(),
        }]
    };
    let rows = pairs
        .into_iter()
        .map(|(n, v)| {
            if name == "all" {
                vec![Value::Text(n), Value::Text(v)]
            } else {
                vec![Value::Text(v)]
            }
        })
        .collect();
    Rows { columns, rows }
}
