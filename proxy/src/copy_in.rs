//! COPY FROM STDIN in a session: rows arrive in CopyData messages and go into the
//! writer of the partition that owns each (every partition, for a reference table) as
//! they come, all in one transaction, so a bad row leaves nothing.

use std::collections::BTreeMap;

use litescale_config::{KeyValue, TablePlacement};
use litescale_router::{CopySpec, PgType, types};
use litescale_shard::Value;

use crate::values::copy_format::{Field, RowParser};
use crate::values::decode::decode_param;
use crate::error::SqlError;
use crate::session::{Session, SessionState};

pub struct CopyIn {
    parser: RowParser,
    table: String,
    insert_sql: String,
    types: Vec<PgType>,
    targets: Targets,
    /// Rows parsed but not yet inserted: clients often send one row per CopyData, and a
    /// trip to the writer thread per row would dominate the load.
    buffered: Vec<Vec<Field>>,
    rows: u64,
}

/// Where the COPY's rows go.
enum Targets {
    /// The partition that owns the key in this column of the row.
    ByKey(usize),
    /// Every partition (a reference table).
    Every,
    One(usize),
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
        let targets = match session.map.placement(&table) {
            _ if session.map.count() == 1 => Targets::One(0),
            TablePlacement::In(p) => Targets::One(p),
            TablePlacement::Reference => Targets::Every,
            TablePlacement::Sharded { key } => Targets::ByKey(
                names
                    .iter()
                    .position(|n| n.eq_ignore_ascii_case(key))
                    .ok_or_else(|| {
                        SqlError::new(
                            "0A000",
                            format!(
                                "COPY into \"{table}\" must include its shard key column \"{key}\""
                            ),
                        )
                    })?,
            ),
        };
        // Outside a transaction block the COPY is its own transaction; the wire layer
        // ends it after CopyDone or CopyFail.
        if self.is_idle() {
            self.open_implicit();
        }
        self.copy_in = Some(CopyIn {
            parser: RowParser::new(spec.format.clone()),
            table,
            insert_sql: CopySpec::insert_sql(&spec.table.clone().unwrap_or_default(), &names),
            types: column_types,
            targets,
            buffered: Vec::new(),
            rows: 0,
        });
        Ok(names.len())
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
        copy.buffered.extend(rows);
        if copy.buffered.is_empty() || (!flush && copy.buffered.len() < BATCH_ROWS) {
            return Ok(());
        }
        let mut by_partition: BTreeMap<usize, Vec<Vec<Value>>> = BTreeMap::new();
        for fields in std::mem::take(&mut copy.buffered) {
            let row = to_values(fields, &copy.types)?;
            let partition = match copy.targets {
                Targets::One(p) => p,
                Targets::Every => 0,
                Targets::ByKey(column) => {
                    let key = match &row[column] {
                        Value::Integer(i) => KeyValue::Int(*i),
                        Value::Text(t) => KeyValue::Text(t.clone()),
                        _ => {
                            return Err(SqlError::new(
                                "23502",
                                format!("COPY row has no usable shard key for \"{}\"", copy.table),
                            ));
                        }
                    };
                    session
                        .map
                        .partition_of(&copy.table, &key)
                        .map_err(|e| SqlError::new("0A000", e))?
                }
            };
            by_partition.entry(partition).or_default().push(row);
        }
        if matches!(copy.targets, Targets::Every) {
            let rows = by_partition.remove(&0).unwrap_or_default();
            for p in 0..session.partitions.len() {
                by_partition.insert(p, rows.clone());
            }
        }
        let sql = copy.insert_sql.clone();
        let every = matches!(copy.targets, Targets::Every);
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
            copy.rows += inserted;
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
            Some(copy) => copy.parser.push(data),
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
            Some(copy) => copy.parser.finish(),
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
        Ok(copy.rows)
    }
}
