//! COPY FROM STDIN in a session: rows arrive in CopyData messages and go into the
//! partition's writer as they come, all in one transaction, so a bad row leaves nothing.

use litescale_router::{CopySpec, PgType, types};
use litescale_shard::{Transaction, Value};

use crate::copy::{Field, RowParser};
use crate::decode::decode_param;
use crate::error::SqlError;
use crate::execute::lock_writer;
use crate::session::{Block, Session, SessionState};

pub struct CopyIn {
    parser: RowParser,
    insert_sql: String,
    types: Vec<PgType>,
    /// The COPY's own transaction when it runs outside a transaction block; inside one it
    /// uses the block's.
    own_txn: Option<Transaction>,
    /// Rows parsed but not yet inserted: clients often send one row per CopyData, and a
    /// trip to the writer thread per row would dominate the load.
    buffered: Vec<Vec<Field>>,
    rows: u64,
}

/// Rows inserted per trip to the writer: bounds memory while loading in large steps.
const BATCH_ROWS: usize = 2_000;

fn to_values(fields: Vec<Field>, types: &[PgType]) -> Result<Vec<Value>, SqlError> {
    if fields.len() != types.len() {
        return Err(SqlError::new(
            "22P04",
            format!(
                "COPY row has {} columns, expected {}",
                fields.len(),
                types.len()
            ),
        ));
    }
    fields
        .into_iter()
        .zip(types)
        .map(|(f, t)| decode_param(f.as_deref().map(str::as_bytes), *t, false))
        .collect()
}

impl SessionState {
    /// Starts COPY FROM STDIN: finds the columns, takes the writer. Returns the column count.
    pub(crate) async fn start_copy_in(
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
        let names: Vec<String> = if spec.columns.is_empty() {
            table_columns.iter().map(|c| c.name.clone()).collect()
        } else {
            spec.columns.clone()
        };
        let mut column_types = Vec::with_capacity(names.len());
        for name in &names {
            let meta = table_columns
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    SqlError::new(
                        "42703",
                        format!("column \"{name}\" of relation \"{table}\" does not exist"),
                    )
                })?;
            column_types.push(
                meta.decl_type
                    .as_deref()
                    .and_then(types::from_declared)
                    .unwrap_or(PgType::Text),
            );
        }
        if session.map.count() > 1 {
            return Err(SqlError::new(
                "0A000",
                "COPY into a partitioned database is not supported yet",
            ));
        }
        let own_txn = if self.is_idle() {
            Some(lock_writer(session, 0).await?.begin().await?)
        } else {
            self.writer_in_block(session, "COPY", 0).await?;
            None
        };
        self.copy_in = Some(CopyIn {
            parser: RowParser::new(spec.format.clone()),
            insert_sql: CopySpec::insert_sql(&table, &names),
            types: column_types,
            own_txn,
            buffered: Vec::new(),
            rows: 0,
        });
        Ok(names.len())
    }

    /// Buffers rows; inserts them once enough are buffered or when `flush` is set.
    async fn insert(&mut self, rows: Vec<Vec<Field>>, flush: bool) -> Result<(), SqlError> {
        let copy = self
            .copy_in
            .as_mut()
            .ok_or_else(|| SqlError::new("08P01", "CopyData outside of COPY"))?;
        copy.buffered.extend(rows);
        if copy.buffered.is_empty() || (!flush && copy.buffered.len() < BATCH_ROWS) {
            return Ok(());
        }
        let values = std::mem::take(&mut copy.buffered)
            .into_iter()
            .map(|r| to_values(r, &copy.types))
            .collect::<Result<Vec<_>, _>>()?;
        let sql = copy.insert_sql.clone();
        let txn = match (&mut copy.own_txn, &mut self.block) {
            (Some(t), _) => t,
            (None, Block::Open(b)) => b
                .txn
                .as_mut()
                .ok_or_else(|| SqlError::new("XX000", "COPY lost its transaction"))?,
            (None, Block::Idle) => return Err(SqlError::new("XX000", "COPY lost its transaction")),
        };
        copy.rows += txn.insert_rows(sql, values).await?;
        Ok(())
    }

    /// Any COPY error: the rows so far are undone (the COPY's own transaction rolls back
    /// when dropped; inside a block, the block fails).
    fn abort_copy(&mut self, e: SqlError) -> SqlError {
        self.copy_in = None;
        self.fail_block();
        e
    }

    pub(crate) async fn copy_data(&mut self, data: &[u8]) -> Result<(), SqlError> {
        let parsed = match self.copy_in.as_mut() {
            Some(copy) => copy.parser.push(data),
            None => return Ok(()), // after a failed COPY, the client's remaining data is ignored
        };
        let result = match parsed {
            Ok(rows) => self.insert(rows, false).await,
            Err(e) => Err(e),
        };
        result.map_err(|e| self.abort_copy(e))
    }

    /// Ends the COPY: the last row, then commit (outside a block). Returns the row count.
    pub(crate) async fn copy_done(&mut self) -> Result<u64, SqlError> {
        let last = match self.copy_in.as_mut() {
            Some(copy) => copy.parser.finish(),
            None => return Err(SqlError::new("08P01", "CopyDone outside of COPY")),
        };
        let result = match last {
            Ok(row) => self.insert(row.into_iter().collect(), true).await,
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            return Err(self.abort_copy(e));
        }
        let copy = self.copy_in.take().expect("checked above");
        if let Some(txn) = copy.own_txn {
            txn.commit().await.map_err(|e| self.abort_copy(e.into()))?;
        }
        Ok(copy.rows)
    }

    pub(crate) fn copy_fail(&mut self, message: &str) -> SqlError {
        self.abort_copy(SqlError::new(
            "57014",
            format!("COPY from stdin failed: {message}"),
        ))
    }
}
