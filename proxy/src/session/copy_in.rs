//! A COPY FROM STDIN in progress: the rows arriving in CopyData messages, parsed, decoded
//! as their columns' types, buffered and placed on the partition that owns each (every
//! partition, for a reference table). Inserting them is the session's (`session/execute/copy.rs`).

use std::collections::BTreeMap;

use litescale_config::{KeyValue, PartitionMap, TablePlacement};
use litescale_router::{CopySpec, PgType, types};
use litescale_shard::{ColumnMeta, SessionZone, Value};

use crate::error::SqlError;
use crate::values::copy_format::{Field, RowParser};
use crate::values::decode::decode_param;

pub(crate) struct CopyIn {
    parser: RowParser,
    table: String,
    insert_sql: String,
    types: Vec<PgType>,
    /// The session's TimeZone, in which a timestamptz without an offset reads.
    zone: SessionZone,
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

/// Rows of a batch by the partition each goes to.
pub(crate) type Batch = BTreeMap<usize, Vec<Vec<Value>>>;

/// Rows inserted per trip to the writer: bounds memory while loading in large steps.
const BATCH_ROWS: usize = 2_000;

fn to_values(
    fields: Vec<Field>,
    types: &[PgType],
    zone: &SessionZone,
) -> Result<Vec<Value>, SqlError> {
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
        .map(|(f, t)| decode_param(f.as_deref().map(str::as_bytes), *t, false, zone))
        .collect()
}

impl CopyIn {
    /// The COPY of `spec` into `table`, whose columns are `table_columns`, for a session in
    /// `zone`.
    pub(crate) fn new(
        spec: &CopySpec,
        table: String,
        table_columns: &[ColumnMeta],
        map: &PartitionMap,
        zone: &SessionZone,
    ) -> Result<CopyIn, SqlError> {
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
        let targets = match map.placement(&table) {
            _ if map.count() == 1 => Targets::One(0),
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
        Ok(CopyIn {
            parser: RowParser::new(spec.format.clone()),
            table,
            insert_sql: zone.statement(CopySpec::insert_sql(
                &spec.table.clone().unwrap_or_default(),
                &names,
            )),
            types: column_types,
            zone: zone.clone(),
            targets,
            buffered: Vec::new(),
            rows: 0,
        })
    }

    /// Columns per row the client sends.
    pub(crate) fn columns(&self) -> usize {
        self.types.len()
    }

    /// Rows complete in `data` (the next CopyData's bytes).
    pub(crate) fn parse(&mut self, data: &[u8]) -> Result<Vec<Vec<Field>>, SqlError> {
        self.parser.push(data)
    }

    /// The last row, at CopyDone.
    pub(crate) fn finish(&mut self) -> Result<Option<Vec<Field>>, SqlError> {
        self.parser.finish()
    }

    /// Buffers `rows`; once enough are buffered, or when `flush` is set, takes them as
    /// values by the partition each goes to (`partitions`: how many the database has).
    pub(crate) fn batch(
        &mut self,
        rows: Vec<Vec<Field>>,
        flush: bool,
        map: &PartitionMap,
        partitions: usize,
    ) -> Result<Option<Batch>, SqlError> {
        self.buffered.extend(rows);
        if self.buffered.is_empty() || (!flush && self.buffered.len() < BATCH_ROWS) {
            return Ok(None);
        }
        let mut by_partition = Batch::new();
        for fields in std::mem::take(&mut self.buffered) {
            let row = to_values(fields, &self.types, &self.zone)?;
            let partition = match self.targets {
                Targets::One(p) => p,
                Targets::Every => 0,
                Targets::ByKey(column) => {
                    let key = match &row[column] {
                        Value::Integer(i) => KeyValue::Int(*i),
                        Value::Text(t) => KeyValue::Text(t.clone()),
                        _ => {
                            return Err(SqlError::new(
                                "23502",
                                format!("COPY row has no usable shard key for \"{}\"", self.table),
                            ));
                        }
                    };
                    map.partition_of(&self.table, &key)
                        .map_err(|e| SqlError::new("0A000", e))?
                }
            };
            by_partition.entry(partition).or_default().push(row);
        }
        if matches!(self.targets, Targets::Every) {
            let rows = by_partition.remove(&0).unwrap_or_default();
            for p in 0..partitions {
                by_partition.insert(p, rows.clone());
            }
        }
        Ok(Some(by_partition))
    }

    /// The INSERT each batch runs.
    pub(crate) fn insert_sql(&self) -> &str {
        &self.insert_sql
    }

    /// Whether every partition gets every row (a reference table).
    pub(crate) fn to_every_partition(&self) -> bool {
        matches!(self.targets, Targets::Every)
    }

    pub(crate) fn inserted(&mut self, rows: u64) {
        self.rows += rows;
    }

    /// Rows inserted so far, as the client sent them.
    pub(crate) fn rows(&self) -> u64 {
        self.rows
    }
}
