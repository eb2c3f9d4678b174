//! Running planned statements: transaction blocks as Postgres defines them, reads on
//! readers, writes on the partition's single writer.

use litescale_router::{
    CopyDirection, CopyFormat, CopySpec, Isolation, PlannedStatement, StatementKind, WriteKind,
};
use litescale_shard::{ColumnMeta, Outcome, RowStream, Rows, Transaction, Value, WriterLock};

use crate::error::SqlError;
use crate::session::{Block, OpenBlock, Session, SessionState};

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
                if spec.direction == CopyDirection::Out && !self.holds_writer() =>
            {
                let rows = session
                    .partition
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
                let Outcome::Rows(rows) = self.run(session, planned, params).await? else {
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
                let txn = self.writer_in_block(session, tag).await?;
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
                let txn = match isolation {
                    Isolation::Serializable if !read_only => {
                        Some(lock_writer(session).await?.begin().await?)
                    }
                    _ => None,
                };
                self.block = Block::Open(OpenBlock {
                    txn,
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

    /// The block's writer transaction, taking the writer if the block has none yet.
    pub(crate) async fn writer_in_block(
        &mut self,
        session: &Session,
        what: &str,
    ) -> Result<&mut Transaction, SqlError> {
        let Block::Open(block) = &mut self.block else {
            return Err(SqlError::new(
                "25P01",
                format!("{what} can only be used in transaction blocks"),
            ));
        };
        if block.txn.is_none() {
            block.txn = Some(lock_writer(session).await?.begin().await?);
        }
        Ok(block.txn.as_mut().expect("just set"))
    }

    async fn run(
        &mut self,
        session: &Session,
        planned: &PlannedStatement,
        params: Vec<Value>,
    ) -> Result<Outcome, SqlError> {
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
        let (holds_writer, read_only) = match &self.block {
            Block::Idle => (false, false),
            Block::Open(b) => (b.txn.is_some(), b.read_only),
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
            let read = session
                .partition
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
            let writer = lock_writer(session).await?;
            if planned.batch {
                return Ok(writer.write_batch(sql).await?);
            }
            return Ok(writer.write(sql, params, interrupter).await?);
        }
        let txn = self
            .writer_in_block(session, command_name(&planned.kind))
            .await?;
        if planned.batch {
            return Ok(txn.execute_batch(sql).await?);
        }
        Ok(txn.execute(sql, params, interrupter).await?)
    }
}

/// Waits for the partition's writer; a CancelRequest ends the wait. Only the wait: once
/// the writer is held the statement runs to its end, so a cancel never leaves the client
/// believing a write failed that in fact committed.
pub(crate) async fn lock_writer(session: &Session) -> Result<WriterLock, SqlError> {
    let canceled = session.cancel.canceled();
    tokio::select! {
        writer = session.partition.lock_writer() => Ok(writer),
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
