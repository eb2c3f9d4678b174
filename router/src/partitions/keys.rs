//! The shard-key values a statement pins: `key = v`, `key IN (...)`, `key = ANY(...)`
//! under AND, an INSERT's VALUES rows, with `?n` parameters read from Bind.

use std::collections::BTreeSet;

use litescale_config::{KeyValue, PartitionMap};
use sqlparser::ast::{BinaryOperator, Expr, InTarget, SetExpr, Statement, UnaryOperator, Value};

use crate::infer::schema::Schema;

pub(super) fn key_value(expr: &Expr, params: &[Option<KeyValue>]) -> Option<KeyValue> {
    match expr {
        Expr::Nested(e) => key_value(e, params),
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse().ok().map(KeyValue::Int),
            Value::SingleQuotedString(s) => Some(KeyValue::Text(s.clone())),
            // Placeholders were rewritten to `?n` when the statement was planned.
            Value::Placeholder(p) => {
                let i: usize = p.get(1..)?.parse().ok()?;
                params.get(i.checked_sub(1)?)?.clone()
            }
            _ => None,
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => match key_value(expr, params)? {
            KeyValue::Int(i) => Some(KeyValue::Int(-i)),
            KeyValue::Text(_) => None,
        },
        Expr::Cast { expr, .. } => key_value(expr, params),
        _ => None,
    }
}

pub(super) fn is_column(expr: &Expr, column: &str) -> bool {
    match expr {
        Expr::Identifier(i) => i.value == column,
        Expr::CompoundIdentifier(parts) => parts.last().is_some_and(|i| i.value == column),
        Expr::Nested(e) => is_column(e, column),
        _ => false,
    }
}

/// The key values a WHERE clause pins `column` to: `col = v`, `col IN (...)`, `col =
/// ANY(ARRAY[...])`, under AND. `None` when the clause does not pin it.
pub(super) fn pinned_keys(
    expr: &Expr,
    column: &str,
    params: &[Option<KeyValue>],
) -> Option<Vec<KeyValue>> {
    match expr {
        Expr::Nested(e) => pinned_keys(e, column, params),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => pinned_keys(left, column, params).or_else(|| pinned_keys(right, column, params)),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => {
            if is_column(left, column) {
                key_value(right, params).map(|k| vec![k])
            } else if is_column(right, column) {
                key_value(left, params).map(|k| vec![k])
            } else {
                None
            }
        }
        Expr::In {
            expr,
            target: InTarget::List(list),
            negated: false,
            ..
        } if is_column(expr, column) => list.iter().map(|e| key_value(e, params)).collect(),
        Expr::AnyOp {
            left,
            compare_op: BinaryOperator::Eq,
            right,
            ..
        } if is_column(left, column) => match right.as_ref() {
            Expr::Array(a) => a.elem.iter().map(|e| key_value(e, params)).collect(),
            _ => None,
        },
        _ => None,
    }
}

pub(super) fn partitions_of(
    map: &PartitionMap,
    table: &str,
    keys: &[KeyValue],
) -> Result<BTreeSet<usize>, String> {
    keys.iter().map(|k| map.partition_of(table, k)).collect()
}

/// Postgres folds unquoted identifiers to lower case, so `AID` names the column `aid`.
pub(super) fn names_column(ident: &sqlparser::ast::Ident, column: &str) -> bool {
    match ident.quote_style {
        Some(_) => ident.value == column,
        None => ident.value.eq_ignore_ascii_case(column),
    }
}

/// How many `x.k1 = y.k2` conditions join two shard-key columns.
pub(super) fn key_equalities(ast: &Statement, sharded: &[(&str, &str)]) -> usize {
    let is_key = |e: &Expr| sharded.iter().any(|(_, key)| is_column(e, key));
    let mut count = 0;
    let _ = sqlparser::ast::visit_expressions(ast, |e| {
        if let Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } = e
            && is_key(left)
            && is_key(right)
        {
            count += 1;
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    count
}

/// The key values of an INSERT's VALUES rows; `None` if a row has no usable key.
pub(super) fn insert_keys(
    insert: &sqlparser::ast::Insert,
    table: &str,
    key: &str,
    params: &[Option<KeyValue>],
    schema: &dyn Schema,
) -> Option<Vec<KeyValue>> {
    // Without a column list, VALUES follow the table's columns.
    let columns: Vec<String> = if insert.columns.is_empty() {
        schema.columns(table)
    } else {
        insert
            .columns
            .iter()
            .filter_map(|c| {
                c.0.last()
                    .and_then(|p| p.as_ident())
                    .map(|i| i.value.clone())
            })
            .collect()
    };
    let position = columns.iter().position(|c| c == key)?;
    let SetExpr::Values(values) = insert.source.as_ref()?.body.as_ref() else {
        return None;
    };
    values
        .rows
        .iter()
        .map(|row| row.get(position).and_then(|e| key_value(e, params)))
        .collect()
}
