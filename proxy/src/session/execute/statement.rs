//! A statement's run from start to answer: the failed-block and termination checks,
//! statement_timeout, its numbers for /metrics, and the dispatch of each kind of statement
//! to the family that runs it.

use litescale_router::{PlannedStatement, StatementKind, WriteKind};
use litescale_shard::Value;

use crate::error::SqlError;
use crate::session::cursors::Answered;
use crate::session::execute::reply::{Executed, Reply};
use crate::session::execute::utility::{
    advisory_lock, show_reply, signal_backend, sleep, text_arg, void_answer,
};
use crate::session::interrupts::timer::StatementTimer;
use crate::session::plans::bookmark::LOG_POSITION;
use crate::session::state::{Block, Session, SessionState};

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
            // The connection is being ended: its answer is the FATAL reason (`protocol/`).
            return Err(SqlError::canceled());
        }
        let started = std::time::Instant::now();
        let result = match self.settings.duration("statement_timeout") {
            None => self.dispatch(session, planned, params).await,
            Some(limit) => {
                let timer = StatementTimer::start(&session.cancel, limit);
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
        record_statement(
            &session.context.database,
            kind_label(&planned.kind),
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
                | StatementKind::DeclareCursor { .. }
        ) {
            self.start_statement(session).await?;
        }
        if !planned.modifying_ctes.is_empty() {
            return self.run_modifying_with(session, planned).await;
        }
        self.reach_read_after(session, &planned.kind).await?;
        let typed = match planned.kind {
            StatementKind::Read | StatementKind::Write(_) | StatementKind::Ddl(_) => {
                self.typed(session, planned).await?
            }
            _ => None,
        };
        let planned = typed.as_deref().unwrap_or(planned);
        if planned.kind == StatementKind::Write(WriteKind::LockTable) && self.is_idle() {
            return Err(SqlError::new(
                "25P01",
                "LOCK TABLE can only be used in transaction blocks",
            ));
        }
        match &planned.kind {
            // Outside a block only: an error in the middle of the rows could not fail
            // the block it belongs to.
            StatementKind::Read if session.map.count() == 1 && self.is_idle() && !planned.batch => {
                self.read_alone(session, planned, params).await
            }
            StatementKind::Read | StatementKind::Write(_) => {
                self.run_reply(session, planned, params).await
            }
            StatementKind::Ddl(_) => {
                self.schema_changing(session);
                let reply = self.run_reply(session, planned, params).await;
                // Sessions that read the columns while it ran read them before it.
                session.column_cache.schema_changed();
                match (reply, planned.filled_table()) {
                    (Ok(_), Some(table)) => self.rows_filled(session, &table).await,
                    (reply, _) => reply,
                }
            }
            StatementKind::Copy(spec) => self.copy(session, planned, spec, params).await,
            StatementKind::DeclareCursor { name, hold, query } => {
                self.declare_cursor(session, name, *hold, query, params)
                    .await
            }
            StatementKind::Fetch { name, count, rows } => {
                let fetched = self.cursors.fetch(name, *count).await?;
                Ok(if *rows {
                    Reply {
                        executed: Executed::Rows {
                            rows: fetched,
                            tag: "FETCH",
                        },
                        notice: None,
                        parameter_status: None,
                    }
                } else {
                    Reply::command(format!("MOVE {}", fetched.rows.len()))
                })
            }
            StatementKind::CloseCursor(name) => {
                self.cursors.close(name.as_deref())?;
                Ok(Reply::command(if name.is_some() {
                    "CLOSE CURSOR"
                } else {
                    "CLOSE CURSOR ALL"
                }))
            }
            StatementKind::Begin {
                isolation,
                read_only,
            } => self.begin(*isolation, *read_only),
            StatementKind::CreateDatabase {
                name,
                if_not_exists,
            } => self.create_database(session, name, *if_not_exists),
            StatementKind::DropDatabase { name, if_exists } => {
                self.drop_database(session, name, *if_exists)
            }
            StatementKind::Commit => self.commit(session).await,
            StatementKind::Rollback => self.rollback(session).await,
            StatementKind::Savepoint(name)
            | StatementKind::Release(name)
            | StatementKind::RollbackTo(name) => {
                self.savepoint(session, &planned.kind, name, &planned.sqlite_sql)
                    .await
            }
            // Prepared statements live in pgwire's store; the wire layer removes a named one
            // (`protocol/simple.rs`), and a statement prepared again under a used name replaces it.
            StatementKind::Deallocate(name) => Ok(Reply::command(match name {
                Some(_) => "DEALLOCATE",
                None => "DEALLOCATE ALL",
            })),
            StatementKind::Prepare {
                name,
                statement,
                parameter_types,
            } => {
                if self.sql_prepared.contains_key(name) {
                    return Err(SqlError::new(
                        "42P05",
                        format!("prepared statement \"{name}\" already exists"),
                    ));
                }
                self.sql_prepared
                    .insert(name.clone(), (statement.clone(), parameter_types.clone()));
                Ok(Reply::command("PREPARE"))
            }
            // The wire layer runs the statement SQL's PREPARE made, and answers 26000 for
            // a name it does not know: this is one the extended protocol prepared.
            StatementKind::Execute { name, .. } => Err(SqlError::new(
                "0A000",
                format!(
                    "EXECUTE {name} in SQL of a statement the extended protocol prepared is not \
                     supported by litescale; execute it with the extended protocol"
                ),
            )),
            StatementKind::Set {
                name,
                value,
                local,
                answer,
            } => {
                let value = match value {
                    Some(value) => super::utility::text_arg(value, &params)?,
                    None => None,
                };
                self.set(name, value.as_deref(), *local, answer.as_deref())
            }
            StatementKind::Reset(name) => self.reset(name.as_deref()),
            StatementKind::SetTransaction {
                isolation,
                read_only,
            } => self.set_transaction(*isolation, *read_only),
            StatementKind::SignalBackend {
                signal,
                pid,
                column,
            } => signal_backend(session, *signal, *pid, column, &params),
            StatementKind::Sleep { seconds, column } => {
                sleep(session, *seconds, column, &params).await
            }
            StatementKind::AdvisoryLock(call) => {
                let in_block = matches!(self.block, Block::Open(_));
                advisory_lock(session, call, &params, in_block).await
            }
            StatementKind::Explain(inner) => Ok(Reply {
                executed: Executed::Rows {
                    rows: crate::session::plans::explain::explain(session, inner),
                    tag: "EXPLAIN",
                },
                notice: None,
                parameter_status: None,
            }),
            StatementKind::Show(name) if name == LOG_POSITION => {
                Ok(show_reply(LOG_POSITION, self.log_positions(session)?))
            }
            StatementKind::Show(name) => self.show(name),
            StatementKind::CurrentSetting {
                name,
                missing_ok,
                answer,
            } => self.current_setting(name, *missing_ok, answer),
            StatementKind::ShareLock(tables) => self.share_lock(session, tables).await,
            StatementKind::Listen(channel) => {
                session.listener.lock().await.listen(channel);
                Ok(Reply::command("LISTEN"))
            }
            StatementKind::Unlisten(channel) => {
                session.listener.lock().await.unlisten(channel.as_deref());
                Ok(Reply::command("UNLISTEN"))
            }
            StatementKind::Notify {
                channel,
                payload,
                answer,
            } => {
                let channel = text_arg(channel, &params)?.unwrap_or_default();
                let payload = text_arg(payload, &params)?.unwrap_or_default();
                self.notify(session, &channel, &payload).await?;
                Ok(match answer {
                    Some(column) => void_answer(column),
                    None => Reply::command("NOTIFY"),
                })
            }
        }
    }

    /// `SELECT n`, the tag of a CREATE TABLE ... AS (or a materialized view) that filled
    /// `table` with n rows: SQLite does not count the rows such a statement writes, so they
    /// are counted after it, in its block.
    async fn rows_filled(&mut self, session: &Session, table: &str) -> Result<Reply, SqlError> {
        let sql = format!("SELECT count(*) FROM \"{}\"", table.replace('"', "\"\""));
        let count = litescale_router::plan_in(&sql, &session.context)?.remove(0);
        let answered = self.run_reply(session, &count, Vec::new()).await?;
        let rows = match answered.executed {
            Executed::Rows { rows, .. } => rows.rows.first().and_then(|r| r.first()).cloned(),
            _ => None,
        };
        match rows {
            Some(Value::Integer(n)) => Ok(Reply::command(format!("SELECT {n}"))),
            _ => Err(SqlError::new(
                "XX000",
                format!("the rows of {table} could not be counted"),
            )),
        }
    }

    /// DECLARE: runs the cursor's query as a read of the session (with its block, or alone
    /// on a reader outside one, streaming) and keeps what it answers. A cursor without
    /// HOLD belongs to a block (25P01 outside one).
    async fn declare_cursor(
        &mut self,
        session: &Session,
        name: &str,
        hold: bool,
        query: &PlannedStatement,
        params: Vec<Value>,
    ) -> Result<Reply, SqlError> {
        if !hold && self.is_idle() {
            return Err(SqlError::new(
                "25P01",
                "DECLARE CURSOR can only be used in transaction blocks",
            ));
        }
        self.cursors.check_free(name)?;
        let typed = self.typed(session, query).await?;
        let query = typed.as_deref().unwrap_or(query);
        let answered = if session.map.count() == 1 && self.is_idle() && !query.batch {
            self.read_alone(session, query, params).await?
        } else {
            self.run_reply(session, query, params).await?
        };
        // The columns' types as the query's plan knows them, where SQLite declares none
        // (`count(*)`, `g * 10`): FETCH answers them so.
        let columns = self.columns_of(session, query.tables()).await?;
        let schema = crate::session::plans::describe::SchemaSnapshot(columns.as_ref().clone());
        let inferred = query.projection_types(&schema, &[]);
        let answered = match answered.executed {
            Executed::Rows { mut rows, .. } => {
                declare_inferred(&mut rows.columns, &inferred);
                Answered::Whole(rows)
            }
            Executed::RowsStream { mut rows, .. } => {
                declare_inferred(&mut rows.columns, &inferred);
                Answered::Streamed(rows)
            }
            _ => {
                return Err(SqlError::new(
                    "42P11",
                    "cursor can only scan a query that returns rows",
                ));
            }
        };
        self.cursors.declare(name, hold, answered)?;
        Ok(Reply::command("DECLARE CURSOR"))
    }

    /// The text an EXECUTE of a statement SQL's PREPARE made runs: the statement with the
    /// arguments bound. `None` for any other statement.
    pub(crate) fn bound_sql_prepared(
        &self,
        planned: &PlannedStatement,
    ) -> Option<Result<String, SqlError>> {
        let StatementKind::Execute { name, arguments } = &planned.kind else {
            return None;
        };
        let (statement, types) = self.sql_prepared.get(name)?;
        Some(
            litescale_router::bind_prepared(name, statement, types, arguments)
                .map_err(SqlError::from),
        )
    }

    /// NOTIFY: sent when the block commits, or at once outside one. Postgres' limit on a
    /// payload is 8000 bytes (22023).
    async fn notify(
        &mut self,
        session: &Session,
        channel: &str,
        payload: &str,
    ) -> Result<(), SqlError> {
        if channel.is_empty() {
            return Err(SqlError::new("22023", "channel name cannot be empty"));
        }
        if payload.len() >= 8000 {
            return Err(SqlError::new("22023", "payload string too long"));
        }
        match &self.block {
            Block::Open(block) => {
                let depth = block.savepoints.len();
                self.notifies
                    .push((depth, channel.to_owned(), payload.to_owned()));
            }
            Block::Idle => {
                session
                    .publish(vec![(channel.to_owned(), payload.to_owned())])
                    .await
            }
        }
        Ok(())
    }

    /// LOCK TABLE ... IN ACCESS SHARE MODE, which keeps out only DROP and ALTER of the
    /// tables: a REPEATABLE READ or SERIALIZABLE block (pg_dump's) reads one snapshot,
    /// which they cannot change, so it takes nothing there but checks the tables exist; a
    /// READ COMMITTED block takes the tables' writers, as the other modes do, and where it
    /// may not write (READ ONLY) is refused.
    async fn share_lock(
        &mut self,
        session: &Session,
        tables: &[String],
    ) -> Result<Reply, SqlError> {
        let (serializable, read_only) = match &self.block {
            Block::Idle => {
                return Err(SqlError::new(
                    "25P01",
                    "LOCK TABLE can only be used in transaction blocks",
                ));
            }
            Block::Open(b) => (b.serializable, b.read_only),
        };
        if !serializable {
            if read_only {
                return Err(SqlError::new(
                    "0A000",
                    "LOCK TABLE ... IN ACCESS SHARE MODE in a READ COMMITTED read-only block \
                     is not supported by litescale (use REPEATABLE READ, whose snapshot \
                     holds what the lock promises)",
                ));
            }
            let quoted: Vec<String> = tables
                .iter()
                .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
                .collect();
            let planned = session
                .plan(&format!("LOCK TABLE {}", quoted.join(", ")), None)
                .await?;
            let Some(lock) = planned.first() else {
                return Err(SqlError::new("XX000", "LOCK TABLE planned to nothing"));
            };
            return self.run_reply(session, lock, Vec::new()).await;
        }
        let found = self.columns_of(session, tables.to_vec()).await?;
        if let Some(missing) = tables
            .iter()
            .find(|t| !found.iter().any(|(name, _)| name.eq_ignore_ascii_case(t)))
        {
            return Err(SqlError::new(
                "42P01",
                format!("relation \"{missing}\" does not exist"),
            ));
        }
        Ok(Reply::command("LOCK TABLE"))
    }
}

/// The label a statement kind is counted under.
fn kind_label(kind: &litescale_router::StatementKind) -> &'static str {
    use litescale_router::StatementKind as K;
    match kind {
        K::Read => "read",
        K::Write(_) => "write",
        K::Ddl(_) => "ddl",
        K::Copy(_) => "copy",
        K::Begin { .. } | K::Commit | K::Rollback => "transaction",
        _ => "other",
    }
}

/// A statement's numbers: count and latency (its error, if any, is counted when sent).
fn record_statement(database: &str, kind: &'static str, elapsed: std::time::Duration) {
    metrics::counter!("litescale_queries_total", "database" => database.to_owned(), "kind" => kind)
        .increment(1);
    metrics::histogram!("litescale_query_duration_seconds", "database" => database.to_owned(), "kind" => kind)
        .record(elapsed.as_secs_f64());
}

/// Gives a column SQLite declares no type for the type the plan inferred for it.
fn declare_inferred(
    columns: &mut [litescale_shard::ColumnMeta],
    inferred: &[Option<litescale_router::PgType>],
) {
    for (column, inferred) in columns.iter_mut().zip(inferred) {
        if column.decl_type.is_none() {
            column.decl_type =
                inferred.and_then(|t| litescale_router::types::format_type(t.oid(), -1));
        }
    }
}
