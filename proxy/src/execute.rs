//! Running planned statements: transaction blocks as Postgres defines them, reads on
//! readers, writes on the partition's single writer.

use std::borrow::Cow;

use litescale_config::KeyValue;
use litescale_router::{
    CopyDirection, CopyFormat, CopySpec, Hint, Isolation, PlannedStatement, Route, StatementKind,
    WriteKind, route, scatter,
};
use litescale_shard::{ColumnMeta, Outcome, RowStream, Rows, Transaction, Value, WriterLock};

use crate::error::SqlError;
use crate::session::{Block, OpenBlock, SchemaSnapshot, Session, SessionState};

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
    /// COPY FROM STDIN has started; the client sends this many columns per row.
    CopyIn { columns: usize },
}

#[derive(Debug)]
pub struct Reply {
    pub executed: Executed,
    /// A WARNING to send first (e.g. BEGIN inside a transaction block).
    pub warning: Option<SqlError>,
    /// A changed setting Postgres reports to clients with a ParameterStatus message.
    pub parameter_status: Option<(String, String)>,
}

impl Reply {
    fn command(tag: impl Into<String>) -> Reply {
        Reply {
            executed: Executed::Command(tag.into()),
            warning: None,
            parameter_status: None,
        }
    }

    fn warn(mut self, sqlstate: &'static str, message: &str) -> Reply {
        self.warning = Some(SqlError::new(sqlstate, message));
        self
    }
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
        let result = self.dispatch(session, planned, params).await;
        if result.is_err() {
            self.fail_block();
        }
        result
    }

    /// Whether the session's transaction block holds the partition's writer; then every
    /// statement must run there to see the block's own writes.
    fn holds_writer(&self) -> bool {
        matches!(&self.block, Block::Open(OpenBlock { txn: Some(_), .. }))
    }

    /// Opens the implicit transaction Postgres wraps around a multi-statement query.
    pub fn open_implicit(&mut self) {
        self.block = Block::Open(OpenBlock {
            txn: None,
            pinned: 0,
            failed: false,
            read_only: false,
            implicit: true,
        });
    }

    /// Ends the implicit transaction, if the query left one open: commit when every
    /// statement succeeded, else roll back.
    pub async fn close_implicit(&mut self, succeeded: bool) -> Result<(), SqlError> {
        if !matches!(&self.block, Block::Open(b) if b.implicit) {
            return Ok(());
        }
        let Block::Open(block) = std::mem::replace(&mut self.block, Block::Idle) else {
            return Ok(());
        };
        match block.txn {
            Some(t) if succeeded && !block.failed => Ok(t.commit().await?),
            Some(t) => Ok(t.rollback().await?),
            None => Ok(()),
        }
    }

    async fn dispatch(
        &mut self,
        session: &Session,
        planned: &PlannedStatement,
        params: Vec<Value>,
    ) -> Result<Reply, SqlError> {
        match &planned.kind {
            StatementKind::Read | StatementKind::Write(_) | StatementKind::Ddl(_) => {
                let outcome = self.run(session, planned, params).await?;
                Ok(Reply {
                    executed: executed(&planned.kind, outcome),
                    warning: None,
                    parameter_status: None,
                })
            }
            StatementKind::Copy(spec)
                if spec.direction == CopyDirection::Out
                    && session.map.count() == 1
                    && !self.holds_writer() =>
            {
                let rows = session.partitions[0]
                    .read_stream(planned.sqlite_sql.clone(), session.cancel.interrupter())
                    .await?;
                Ok(Reply {
                    executed: Executed::CopyOutStream {
                        rows,
                        format: spec.format.clone(),
                    },
                    warning: None,
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
                    warning: None,
                    parameter_status: None,
                })
            }
            StatementKind::Copy(spec) => {
                let columns = self.start_copy_in(session, spec).await?;
                Ok(Reply {
                    executed: Executed::CopyIn { columns },
                    warning: None,
                    parameter_status: None,
                })
            }
            StatementKind::Begin {
                isolation,
                read_only,
            } => self.begin(session, *isolation, *read_only).await,
            StatementKind::Commit => self.commit().await,
            StatementKind::Rollback => {
                let Block::Open(block) = std::mem::replace(&mut self.block, Block::Idle) else {
                    return Ok(no_block_warning(Reply::command("ROLLBACK")));
                };
                if let Some(t) = block.txn {
                    t.rollback().await?;
                }
                Ok(Reply::command("ROLLBACK"))
            }
            StatementKind::Savepoint(_) | StatementKind::Release(_) => {
                let tag = if matches!(planned.kind, StatementKind::Savepoint(_)) {
                    "SAVEPOINT"
                } else {
                    "RELEASE"
                };
                let pinned = self.pinned().unwrap_or(0);
                let txn = self.writer_in_block(session, tag, pinned).await?;
                txn.execute(
                    planned.sqlite_sql.clone(),
                    Vec::new(),
                    session.cancel.interrupter(),
                )
                .await?;
                Ok(Reply::command(tag))
            }
            StatementKind::RollbackTo(name) => {
                let Block::Open(block) = &mut self.block else {
                    return Err(SqlError::new(
                        "25P01",
                        "ROLLBACK TO SAVEPOINT can only be used in transaction blocks",
                    ));
                };
                let Some(txn) = block.txn.as_mut() else {
                    return Err(SqlError::new(
                        "3B001",
                        format!("savepoint \"{name}\" does not exist"),
                    ));
                };
                txn.execute(
                    planned.sqlite_sql.clone(),
                    Vec::new(),
                    session.cancel.interrupter(),
                )
                .await
                .map_err(|e| SqlError::new("3B001", e.message))?;
                block.failed = false;
                Ok(Reply::command("ROLLBACK"))
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
            StatementKind::Explain(inner) => Ok(Reply {
                executed: Executed::Rows {
                    rows: crate::explain::explain(session, inner),
                    tag: "EXPLAIN",
                },
                warning: None,
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
                    warning: None,
                    parameter_status: None,
                })
            }
        }
    }

    async fn begin(
        &mut self,
        session: &Session,
        isolation: Isolation,
        read_only: bool,
    ) -> Result<Reply, SqlError> {
        match &mut self.block {
            Block::Open(b) if b.implicit => {
                // BEGIN inside a multi-statement query turns its implicit block explicit.
                b.implicit = false;
                b.read_only = read_only;
                Ok(Reply::command("BEGIN"))
            }
            Block::Open(_) => {
                Ok(Reply::command("BEGIN")
                    .warn("25001", "there is already a transaction in progress"))
            }
            Block::Idle => {
                // SERIALIZABLE takes the writer now: every statement of the block then runs
                // on it, one transaction after another, which is serializable.
                // With several partitions the writer is only known at the first write.
                let txn = match isolation {
                    Isolation::Serializable if !read_only && session.map.count() == 1 => {
                        Some(lock_writer(session, 0).await?.begin().await?)
                    }
                    _ => None,
                };
                self.block = Block::Open(OpenBlock {
                    txn,
                    pinned: 0,
                    failed: false,
                    read_only,
                    implicit: false,
                });
                Ok(Reply::command("BEGIN"))
            }
        }
    }

    async fn commit(&mut self) -> Result<Reply, SqlError> {
        let Block::Open(block) = std::mem::replace(&mut self.block, Block::Idle) else {
            return Ok(no_block_warning(Reply::command("COMMIT")));
        };
        if block.failed {
            if let Some(t) = block.txn {
                t.rollback().await?;
            }
            return Ok(Reply::command("ROLLBACK"));
        }
        if let Some(t) = block.txn {
            t.commit().await?;
        }
        Ok(Reply::command("COMMIT"))
    }

    /// The partition the block's transaction writes, if it has written.
    fn pinned(&self) -> Option<usize> {
        match &self.block {
            Block::Open(OpenBlock {
                txn: Some(_),
                pinned,
                ..
            }) => Some(*pinned),
            _ => None,
        }
    }

    /// The block's writer transaction on `partition`, taking that partition's writer if
    /// the block has none yet. A block writes one partition only.
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
        if block.txn.is_some() && block.pinned != partition {
            return Err(SqlError::new(
                "0A000",
                format!(
                    "this transaction writes partition {}; writing partition {partition} too needs atomic cross-partition commit, which is not supported yet",
                    block.pinned
                ),
            ));
        }
        if block.txn.is_none() {
            block.txn = Some(lock_writer(session, partition).await?.begin().await?);
            block.pinned = partition;
        }
        Ok(block.txn.as_mut().expect("just set"))
    }

    /// Runs a read, write or DDL statement where the partition map sends it.
    async fn run(
        &mut self,
        session: &Session,
        planned: &PlannedStatement,
        params: Vec<Value>,
    ) -> Result<Outcome, SqlError> {
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
        match route(planned, &session.map, &keys, &schema) {
            Route::Refused(why) => Err(refused(why)),
            Route::All if matches!(planned.kind, StatementKind::Ddl(_)) => {
                self.broadcast(session, planned).await
            }
            Route::Partitions(p) if p.len() == 1 => {
                let only = p.into_iter().next().unwrap_or(0);
                self.run_on(session, planned, params, only).await
            }
            route => {
                let targets: Vec<usize> = match route {
                    Route::Partitions(p) => p.into_iter().collect(),
                    _ => (0..session.partitions.len()).collect(),
                };
                self.scatter_read(session, planned, params, &targets).await
            }
        }
    }

    /// DDL runs on every partition, one after another, outside transaction blocks.
    async fn broadcast(
        &mut self,
        session: &Session,
        planned: &PlannedStatement,
    ) -> Result<Outcome, SqlError> {
        if !self.is_idle() {
            return Err(SqlError::new(
                "0A000",
                "schema changes in a partitioned database cannot run inside a transaction block yet",
            ));
        }
        for (i, _) in session.partitions.iter().enumerate() {
            if let Err(e) = self.run_on(session, planned, Vec::new(), i).await {
                let mut e = e;
                if i > 0 {
                    e.message = format!(
                        "{} (on partition {i}; partitions 0..{i} already applied it)",
                        e.message
                    );
                }
                return Err(e);
            }
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
        if planned.kind != StatementKind::Read {
            return Err(SqlError::new(
                "0A000",
                "the statement would write to more than one partition; atomic cross-partition writes are not supported yet",
            ));
        }
        let plan = scatter(planned, &session.context).map_err(|why| SqlError::new("0A000", why))?;
        let pinned = self.pinned();
        let mut rows = Vec::new();
        for &p in targets {
            let sql = plan.partition_sql.clone();
            let interrupter = session.cancel.interrupter();
            // A transaction reads its own writes on its partition.
            let outcome = match (&mut self.block, pinned) {
                (Block::Open(OpenBlock { txn: Some(t), .. }), Some(q)) if q == p => {
                    t.execute(sql, params.clone(), interrupter).await?
                }
                _ => session.partitions[p]
                    .read(sql, params.clone(), interrupter)
                    .await?
                    .ok_or_else(|| {
                        SqlError::new("0A000", "a read on several partitions may not write")
                    })?,
            };
            if let Outcome::Rows(r) = outcome {
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
            Block::Open(b) => (b.txn.is_some() && b.pinned == target, b.read_only),
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
        if is_read && !holds_writer {
            // The reader reports `None` when SQLite finds the statement writes after all.
            let read = partition
                .read(sql.clone(), params.clone(), interrupter.clone())
                .await?;
            if let Some(outcome) = read {
                return Ok(outcome);
            }
            if read_only {
                return Err(refuse());
            }
        }
        if self.is_idle() {
            let writer = lock_writer(session, target).await?;
            if planned.batch {
                return Ok(writer.write_batch(sql).await?);
            }
            return Ok(writer.write(sql, params, interrupter).await?);
        }
        let txn = self
            .writer_in_block(session, command_name(&planned.kind), target)
            .await?;
        if planned.batch {
            return Ok(txn.execute_batch(sql).await?);
        }
        Ok(txn.execute(sql, params, interrupter).await?)
    }
}

/// The session setting that pins statements to one partition.
const PARTITION_SETTING: &str = "litescale.partition";

/// Waits for the partition's writer; a CancelRequest ends the wait. Only the wait: once
/// the writer is held the statement runs to its end, so a cancel never leaves the client
/// believing a write failed that in fact committed.
pub(crate) async fn lock_writer(
    session: &Session,
    partition: usize,
) -> Result<WriterLock, SqlError> {
    let canceled = session.cancel.canceled();
    tokio::select! {
        writer = session.partitions[partition].lock_writer() => Ok(writer),
        () = canceled => Err(SqlError::canceled()),
    }
}

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
            crate::encode::pad_fixed_width(&mut rows);
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
