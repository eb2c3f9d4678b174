//! COPY in a session: TO STDOUT streamed from a reader or read whole (inside a block that
//! must see its own writes, or from every partition), and FROM STDIN inserted into the
//! block's writers as rows arrive, all in one transaction, so a bad row leaves nothing.

use std::borrow::Cow;

use litescale_router::{CopyDirection, CopySpec, PlannedStatement, StatementKind};
use litescale_shard::{Outcome, Value};

use crate::error::SqlError;
use crate::session::copy_in::CopyIn;
use crate::session::execute::reply::{Executed, Reply};
use crate::session::state::{Session, SessionState};
use crate::values::copy_format::Field;

impl SessionState {
    /// COPY TO STDOUT, streamed unless the block must see its own writes or the table
    /// spans partitions; or the start of COPY FROM STDIN.
    pub(super) async fn copy(
        &mut self,
        session: &Session,
        planned: &PlannedStatement,
        spec: &CopySpec,
        params: Vec<Value>,
    ) -> Result<Reply, SqlError> {
        if spec.direction == CopyDirection::Out
            && session.map.count() == 1
            && !self.holds_writer()
            && !self.holds_snapshot()
        {
            let rows = session.partitions[0]
                .read_stream(
                    self.for_engine(&planned.sqlite_sql),
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
        } else if spec.direction == CopyDirection::Out {
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
        } else {
            let columns = self.start_copy_in(session, spec).await?;
            Ok(Reply {
                executed: Executed::CopyIn { columns },
                notice: None,
                parameter_status: None,
            })
        }
    }

    /// Starts COPY FROM STDIN: finds the columns, takes the writer. Returns the column count.
    async fn start_copy_in(
        &mut self,
        session: &Session,
        spec: &CopySpec,
    ) -> Result<usize, SqlError> {
        let table = spec.table.clone().unwrap_or_default();
        let known = self.table_columns(session, vec![table.clone()]).await?;
        let Some((_, table_columns)) = known.into_iter().next() else {
            return Err(SqlError::new(
                "42P01",
                format!("relation \"{table}\" does not exist"),
            ));
        };
        let copy = CopyIn::new(
            spec,
            table,
            &table_columns,
            &session.map,
            self.settings.zone(),
        )?;
        let columns = copy.columns();
        // Outside a transaction block the COPY is its own transaction; the wire layer
        // ends it after CopyDone or CopyFail.
        if self.is_idle() {
            self.open_implicit();
        }
        self.copy_in = Some(copy);
        Ok(columns)
    }

    /// Buffers rows; inserts them once enough are buffered or when `flush` is set.
    async fn insert(
        &mut self,
        session: &Session,
        rows: Vec<Vec<Field>>,
        flush: bool,
    ) -> Result<(), SqlError> {
        let copy = self
            .copy_in
            .as_mut()
            .ok_or_else(|| SqlError::new("08P01", "CopyData outside of COPY"))?;
        let Some(by_partition) = copy.batch(rows, flush, &session.map, session.partitions.len())?
        else {
            return Ok(());
        };
        let sql = copy.insert_sql().to_owned();
        let every = copy.to_every_partition();
        let sql = self.as_role(&sql);
        let mut inserted = 0;
        for (partition, rows) in by_partition {
            let txn = self.writer_in_block(session, "COPY", partition).await?;
            let n = txn.insert_rows(sql.clone(), rows).await?;
            // A reference table's rows are counted once, as the client sent them.
            if !every || partition == 0 {
                inserted += n;
            }
        }
        if let Some(copy) = self.copy_in.as_mut() {
            copy.inserted(inserted);
        }
        Ok(())
    }

    /// Any COPY error: the rows so far are undone (the COPY's own transaction rolls back
    /// when dropped; inside a block, the block fails).
    pub(crate) fn abort_copy(&mut self, e: SqlError) -> SqlError {
        self.copy_in = None;
        self.fail_block();
        e
    }

    pub(crate) async fn copy_data(
        &mut self,
        session: &Session,
        data: &[u8],
    ) -> Result<(), SqlError> {
        let parsed = match self.copy_in.as_mut() {
            Some(copy) => copy.parse(data),
            None => return Ok(()), // after a failed COPY, the client's remaining data is ignored
        };
        let result = match parsed {
            Ok(rows) => self.insert(session, rows, false).await,
            Err(e) => Err(e),
        };
        result.map_err(|e| self.abort_copy(e))
    }

    /// Ends the COPY: the last rows. Returns the row count. The caller commits (outside a
    /// block) by closing the implicit block.
    pub(crate) async fn copy_done(&mut self, session: &Session) -> Result<u64, SqlError> {
        let last = match self.copy_in.as_mut() {
            Some(copy) => copy.finish(),
            None => return Err(SqlError::new("08P01", "CopyDone outside of COPY")),
        };
        let result = match last {
            Ok(row) => self.insert(session, row.into_iter().collect(), true).await,
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            return Err(self.abort_copy(e));
        }
        let copy = self.copy_in.take().expect("checked above");
        Ok(copy.rows())
    }
}
