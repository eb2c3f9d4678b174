//! Reads, writes and DDL where the partition map sends them: on one partition's reader or
//! writer (a lone read outside a block answered whole or streamed), a write on several
//! partitions as one block, a read on several merged, VACUUM on each.

use litescale_config::KeyValue;
use litescale_router::{
    CopyDirection, CopySpec, Hint, PlannedStatement, Route, StatementKind, WriteKind,
    insert_naming_columns, route, scatter, split_insert, writes_copies,
};
use litescale_shard::{Outcome, Rows, SmallRead, Value};

use crate::error::SqlError;
use crate::session::coordinator::locks::lock_writer;
use crate::session::execute::reply::{Executed, Reply, command_name, executed};
use crate::session::plans::describe::SchemaSnapshot;
use crate::session::state::{Block, OpenBlock, Session, SessionState};

/// A read outside a block whose result holds up to this many bytes is answered whole from
/// the caller's thread (a point select needs no hand-off); a larger one is run again as a
/// stream, so that no connection holds a large result.
const INLINE_RESULT_BYTES: usize = 64 << 10;

/// The session setting that pins statements to one partition.
const PARTITION_SETTING: &str = "litescale.partition";

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

impl SessionState {
    /// A read on the only partition, outside a block: answered whole from the caller's
    /// thread while its result is small, else streamed from a reader.
    pub(super) async fn read_alone(
        &mut self,
        session: &Session,
        planned: &PlannedStatement,
        params: Vec<Value>,
    ) -> Result<Reply, SqlError> {
        count_partition_statement(session, 0, "reader");
        let small = session.partitions[0]
            .read_if_small(
                self.for_engine(&planned.sqlite_sql),
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
                self.for_engine(&planned.sqlite_sql),
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
            Err(e) if e.sqlstate == "25006" => self.run_reply(session, planned, params).await,
            Err(e) => Err(e.into()),
        }
    }

    /// A read, write or DDL statement, run where the partition map sends it.
    pub(super) async fn run_reply(
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

    /// Runs a read, write or DDL statement where the partition map sends it.
    pub(super) async fn run(
        &mut self,
        session: &Session,
        planned: &PlannedStatement,
        params: Vec<Value>,
    ) -> Result<Outcome, SqlError> {
        if planned.kind == StatementKind::Ddl("VACUUM") {
            return self.vacuum_everywhere(session, planned).await;
        }
        if session.map.count() == 1 {
            let insert = planned.kind == StatementKind::Write(WriteKind::Insert);
            let again = insert.then(|| params.clone());
            return match (self.run_on(session, planned, params, 0).await, again) {
                (Err(e), Some(params)) if e.sqlstate == "0A000" => {
                    self.run_short_insert(session, planned, params, e).await
                }
                (ran, _) => ran,
            };
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
                    .map(|part| (part.partition, self.for_engine(&part.sql), Some(part.rows)))
                    .collect(),
                None => targets
                    .into_iter()
                    .map(|p| (p, self.for_engine(&planned.sqlite_sql), None))
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
        // Each partition's copy of a reference table gets the write; the client hears one.
        let copies = writes_copies(planned, &session.map);
        for (at, (partition, sql, rows_of_part)) in parts.into_iter().enumerate() {
            let what = command_name(&planned.kind);
            let txn = self.writer_in_block(session, what, partition).await?;
            let outcome = if matches!(planned.kind, StatementKind::Ddl(_)) {
                txn.execute_schema_change(sql).await?
            } else {
                txn.execute(sql, params.clone(), session.cancel.interrupter())
                    .await?
            };
            if copies && at > 0 {
                continue;
            }
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
        if !plan.compared_columns.is_empty() {
            let tables = self.columns_of(session, planned.tables()).await?;
            refuse_comparing_user_types(&plan.compared_columns, &tables)?;
        }
        let mut rows = Vec::new();
        let mut partition_columns = None;
        // Each partition bounds its own part; the merge holds all of them at once.
        let mut held = 0usize;
        for &p in targets {
            let sql = self.for_engine(&plan.partition_sql);
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
                partition_columns.get_or_insert(r.columns);
            }
        }
        if let Some(columns) = &partition_columns {
            refuse_sorting_user_types(&plan.merge, columns)?;
        }
        let rows = crate::session::coordinator::merge::merge(rows, &plan.merge);
        // The partitions may return extra columns (AVG as sum and count), which the merge
        // folds back: the result has the statement's own columns.
        let columns = session.partitions[0]
            .describe(planned.sqlite_sql.clone())
            .await?;
        Ok(Outcome::Rows(Rows { columns, rows }))
    }

    /// An INSERT without a column list that SQLite refused (`refused`): where its rows are
    /// shorter than the table, it runs again with the columns they fill named, as Postgres
    /// fills the others with their defaults. Asked after the refusal, so that no other
    /// INSERT waits for the table's columns.
    async fn run_short_insert(
        &mut self,
        session: &Session,
        planned: &PlannedStatement,
        params: Vec<Value>,
        refused: SqlError,
    ) -> Result<Outcome, SqlError> {
        let schema = SchemaSnapshot(self.table_columns(session, planned.tables()).await?);
        let context = self.planning_context(session);
        match insert_naming_columns(planned, &schema, &context) {
            Some(named) => self.run_on(session, &named?, params, 0).await,
            None => Err(refused),
        }
    }

    async fn run_on(
        &mut self,
        session: &Session,
        planned: &PlannedStatement,
        params: Vec<Value>,
        target: usize,
    ) -> Result<Outcome, SqlError> {
        let partition = &session.partitions[target];
        if planned.sqlite_sql.is_empty() {
            // Nothing for SQLite to do (plain VACUUM).
            return Ok(Outcome::Changed(0));
        }
        let sql = self.for_engine(&planned.sqlite_sql);
        let interrupter = session.cancel.interrupter();
        let is_read = matches!(
            &planned.kind,
            StatementKind::Read
                | StatementKind::Copy(CopySpec {
                    direction: CopyDirection::Out,
                    ..
                })
        );
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
            let writer = lock_writer(
                &session.wait_graph,
                session.owner,
                partition,
                &session.cancel,
                None,
            )
            .await?;
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

/// min() and max() of a column of an enum type, merged across partitions: refused as
/// [`refuse_sorting_user_types`] refuses a sort.
fn refuse_comparing_user_types(
    compared: &[String],
    tables: &[(String, Vec<litescale_shard::ColumnMeta>)],
) -> Result<(), SqlError> {
    let user_typed = tables.iter().flat_map(|(_, columns)| columns).find(|c| {
        compared
            .iter()
            .any(|name| name.eq_ignore_ascii_case(&c.name))
            && c.decl_type
                .as_deref()
                .is_some_and(litescale_router::types::declares_user_type)
    });
    match user_typed {
        Some(c) => Err(SqlError::new(
            "0A000",
            format!(
                "min() or max() of column \"{}\" of type {} across partitions (its labels' \
                 order) is not supported; read one partition",
                c.name,
                c.decl_type.as_deref().unwrap_or_default()
            ),
        )),
        None => Ok(()),
    }
}

/// The merge sorts values as they compare by themselves; a column of an enum type sorts by
/// its labels' declared order, which each partition knows and the merge does not: such a
/// sort across partitions is refused rather than answered in another order.
fn refuse_sorting_user_types(
    steps: &[litescale_router::MergeStep],
    columns: &[litescale_shard::ColumnMeta],
) -> Result<(), SqlError> {
    for step in steps {
        let litescale_router::MergeStep::Sort(keys) = step else {
            continue;
        };
        for (key, ..) in keys {
            if let Some(decl) = columns.get(*key).and_then(|c| c.decl_type.as_deref())
                && litescale_router::types::declares_user_type(decl)
            {
                return Err(SqlError::new(
                    "0A000",
                    format!(
                        "ORDER BY a column of type {decl} across partitions (its labels' \
                         order) is not supported; select it as text (::text) and order by that, \
                         or read one partition"
                    ),
                ));
            }
        }
    }
    Ok(())
}
