//! A multi-row INSERT whose rows belong to several partitions, split into one INSERT per
//! partition, each translated for SQLite like any statement.

use litescale_config::{KeyValue, PartitionMap, TablePlacement};
use sqlparser::ast::{SetExpr, Statement, TableObject};

use super::keys::insert_keys;
use crate::infer::schema::{Schema, last_part};
use crate::plan::session::SessionContext;
use crate::plan::statement::PlannedStatement;
use crate::translate::translate;

/// One partition's share of a multi-row INSERT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsertPart {
    pub partition: usize,
    /// The INSERT with this partition's rows, as SQLite runs it.
    pub sql: String,
    /// Which rows of the original VALUES these are, in order (to put RETURNING rows
    /// back in the client's order).
    pub rows: Vec<usize>,
}

/// A multi-row INSERT into a sharded table whose rows belong to several partitions,
/// split into one INSERT per partition. `None` when the statement is not such an
/// INSERT: it then runs unchanged on each partition it routes to (a reference table's
/// copies).
pub fn split_insert(
    planned: &PlannedStatement,
    map: &PartitionMap,
    params: &[Option<KeyValue>],
    schema: &dyn Schema,
    ctx: &SessionContext,
) -> Option<Result<Vec<InsertPart>, String>> {
    let Some(Statement::Insert(insert)) = &planned.ast else {
        return None;
    };
    let TableObject::TableName(name) = &insert.table else {
        return None;
    };
    let table = last_part(name);
    let TablePlacement::Sharded { key } = map.placement(&table) else {
        return None;
    };
    let keys = insert_keys(insert, &table, key, params, schema)?;
    let mut rows_of: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for (row, k) in keys.iter().enumerate() {
        match map.partition_of(&table, k) {
            Ok(p) => rows_of.entry(p).or_default().push(row),
            Err(e) => return Some(Err(e)),
        }
    }
    if rows_of.len() < 2 {
        return None;
    }
    let split = rows_of
        .into_iter()
        .map(|(p, rows)| {
            let mut part = insert.clone();
            if let Some(SetExpr::Values(values)) = part.source.as_mut().map(|q| q.body.as_mut()) {
                let all = std::mem::take(&mut values.rows);
                values.rows = rows.iter().map(|&r| all[r].clone()).collect();
            }
            translate(Statement::Insert(part), ctx, schema)
                .map(|t| InsertPart {
                    partition: p,
                    sql: t.sql,
                    rows,
                })
                .map_err(|e| e.to_string())
        })
        .collect();
    Some(split)
}
