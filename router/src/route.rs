//! Where a statement goes in a partitioned database: which partitions, and why. Pure:
//! the partition map comes from the config, parameter values from Bind.

use std::collections::BTreeSet;

use litescale_config::{KeyValue, PartitionMap, TablePlacement};
use sqlparser::ast::{
    BinaryOperator, Expr, InTarget, SetExpr, Statement, TableObject, UnaryOperator, Value,
};

use crate::infer::last_part;
use crate::{PlannedStatement, StatementKind};

/// A routing hint from the client: a comment `/* partition: 2 */` or `/* key: 42 */`, or
/// the session setting `litescale.partition`. It narrows a read or an UPDATE/DELETE to
/// the partition it names; it never puts rows where the partition map does not look for
/// them (an INSERT goes where its keys belong, and must agree with the hint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    Partition(usize),
    Key(String),
}

impl Hint {
    /// The hint in a comment, if it holds one.
    pub fn from_comment(comment: &str) -> Option<Hint> {
        let text = comment.trim();
        if let Some(n) = text.strip_prefix("partition:") {
            return n.trim().parse().ok().map(Hint::Partition);
        }
        text.strip_prefix("key:")
            .map(|k| Hint::Key(k.trim().trim_matches('\'').to_owned()))
    }
}

/// The partitions a statement runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// These partitions (one, for a key-routed statement).
    Partitions(BTreeSet<usize>),
    /// Every partition: a read without a usable key, or DDL.
    All,
    /// Not allowed yet, with the reason (SQLSTATE 0A000).
    Refused(String),
    /// Rows a hint would put in a partition their keys do not belong to (SQLSTATE 23514,
    /// what Postgres answers a row inserted into a partition whose bounds it is outside).
    Misplaced(String),
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Route::Partitions(p) => {
                let list: Vec<String> = p.iter().map(|n| n.to_string()).collect();
                write!(f, "partitions [{}]", list.join(", "))
            }
            Route::All => write!(f, "all partitions"),
            Route::Refused(why) | Route::Misplaced(why) => write!(f, "refused: {why}"),
        }
    }
}

fn key_value(expr: &Expr, params: &[Option<KeyValue>]) -> Option<KeyValue> {
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

fn is_column(expr: &Expr, column: &str) -> bool {
    match expr {
        Expr::Identifier(i) => i.value == column,
        Expr::CompoundIdentifier(parts) => parts.last().is_some_and(|i| i.value == column),
        Expr::Nested(e) => is_column(e, column),
        _ => false,
    }
}

/// The key values a WHERE clause pins `column` to: `col = v`, `col IN (...)`, `col =
/// ANY(ARRAY[...])`, under AND. `None` when the clause does not pin it.
fn pinned_keys(expr: &Expr, column: &str, params: &[Option<KeyValue>]) -> Option<Vec<KeyValue>> {
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

fn partitions_of(
    map: &PartitionMap,
    table: &str,
    keys: &[KeyValue],
) -> Result<BTreeSet<usize>, String> {
    keys.iter().map(|k| map.partition_of(table, k)).collect()
}

/// Where `planned` runs, given the map and the values of its parameters (`None` where a
/// parameter is not a usable key, e.g. NULL or not yet bound).
pub fn route(
    planned: &PlannedStatement,
    map: &PartitionMap,
    params: &[Option<KeyValue>],
    schema: &dyn crate::Schema,
) -> Route {
    if map.count() == 1 {
        return Route::Partitions(BTreeSet::from([0]));
    }
    let hint = planned
        .hint
        .as_ref()
        .filter(|_| !matches!(planned.kind, StatementKind::Ddl(_)));
    match hint {
        // A read may look at any part of the data it likes.
        Some(hint) if planned.kind == StatementKind::Read => hinted(planned, map, hint),
        Some(hint) => hinted_write(
            planned,
            map,
            hinted(planned, map, hint),
            by_statement(planned, map, params, schema),
        ),
        None => by_statement(planned, map, params, schema),
    }
}

/// Where the statement itself says it goes: its keys, its tables' placement.
fn by_statement(
    planned: &PlannedStatement,
    map: &PartitionMap,
    params: &[Option<KeyValue>],
    schema: &dyn crate::Schema,
) -> Route {
    let writes = !matches!(planned.kind, StatementKind::Read);
    if matches!(planned.kind, StatementKind::Ddl(_)) {
        if let Some(Statement::CreateTable(create)) = &planned.ast
            && let name = last_part(&create.name)
            && let TablePlacement::Sharded { key } = map.placement(&name)
        {
            if create.columns.iter().any(generates_ids) {
                return Route::Refused(format!(
                    "SERIAL or IDENTITY columns in the sharded table \"{name}\" would number rows in each partition separately, and the numbers would collide"
                ));
            }
            // CREATE TABLE ... AS names its columns through the query; SQLite checks those.
            if create.query.is_none() && !create.columns.iter().any(|c| names_column(&c.name, key))
            {
                return Route::Refused(format!(
                    "the partition map shards \"{name}\" by \"{key}\", but the table has no column \"{key}\""
                ));
            }
        }
        if let Some(Statement::AlterTable(alter)) = &planned.ast
            && let Some(refusal) = alter_refusal(map, alter)
        {
            return Route::Refused(refusal);
        }
        return Route::All;
    }
    let Some(ast) = &planned.ast else {
        return Route::Refused(
            "this statement cannot be routed in a partitioned database yet".into(),
        );
    };
    let tables = crate::infer::tables(ast);
    let mut targets: BTreeSet<usize> = BTreeSet::new();
    let mut everywhere = false;
    let mut sharded: Vec<(&str, &str)> = Vec::new();
    for t in &tables {
        match map.placement(t) {
            TablePlacement::In(p) => {
                targets.insert(p);
            }
            TablePlacement::Reference if writes && is_target(ast, t) => everywhere = true,
            TablePlacement::Reference => {}
            TablePlacement::Sharded { key } => sharded.push((t, key)),
        }
    }
    // Tables sharded on different keys cannot be joined partition by partition: matching
    // rows may live in different partitions.
    let groups: BTreeSet<&str> = sharded
        .iter()
        .map(|(t, _)| colocation_root(map, t))
        .collect();
    if groups.len() > 1 {
        return Route::Refused(format!(
            "tables sharded independently ({}) cannot be combined in one statement",
            sharded
                .iter()
                .map(|(t, _)| *t)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if sharded.len() > 1 && key_equalities(ast, &sharded) + 1 < sharded.len() {
        return Route::Refused(
            "colocated tables can be combined only on their key (e.g. a.aid = h.aid)".into(),
        );
    }
    for (table, key) in &sharded {
        let keys = match ast {
            Statement::Insert(insert) => insert_keys(insert, table, key, params, schema),
            Statement::Query(q) => match q.body.as_ref() {
                SetExpr::Select(s) => s
                    .selection
                    .as_ref()
                    .and_then(|w| pinned_keys(w, key, params)),
                _ => None,
            },
            Statement::Update(u) => u
                .selection
                .as_ref()
                .and_then(|w| pinned_keys(w, key, params)),
            Statement::Delete(d) => d
                .selection
                .as_ref()
                .and_then(|w| pinned_keys(w, key, params)),
            _ => None,
        };
        let partitions = match keys.map(|keys| partitions_of(map, table, &keys)) {
            Some(Ok(p)) => Some(p),
            Some(Err(e)) => return Route::Refused(e),
            None => None,
        };
        if is_target(ast, table)
            && let Some(refusal) =
                key_change_refusal(ast, table, key, map, partitions.as_ref(), params)
        {
            return Route::Refused(refusal);
        }
        match partitions {
            Some(p) => targets.extend(p),
            None if matches!(ast, Statement::Insert(_)) => {
                return Route::Refused(format!(
                    "an INSERT into \"{table}\" needs a literal or parameter value for its key column \"{key}\""
                ));
            }
            None => everywhere = true,
        }
    }
    if everywhere {
        return Route::All;
    }
    if targets.is_empty() {
        // Only reference tables (or none): any partition has them.
        targets.insert(0);
    }
    Route::Partitions(targets)
}

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
    schema: &dyn crate::Schema,
    ctx: &crate::SessionContext,
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
            crate::translate::translate(Statement::Insert(part), ctx)
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

/// A write under a hint: an INSERT runs where its rows belong, which must be where the
/// hint says; an UPDATE or DELETE of sharded rows runs only where the hint says (it
/// changes no row's partition: changing a key is refused by `by_statement`); a write to a
/// reference table must reach every copy.
fn hinted_write(
    planned: &PlannedStatement,
    map: &PartitionMap,
    hinted: Route,
    own: Route,
) -> Route {
    let Route::Partitions(named) = hinted else {
        return hinted;
    };
    let own_partitions: BTreeSet<usize> = match &own {
        Route::Refused(_) | Route::Misplaced(_) => return own,
        Route::Partitions(p) => p.clone(),
        Route::All => (0..map.count()).collect(),
    };
    let list = |p: &BTreeSet<usize>| {
        p.iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let writes_reference = planned.ast.as_ref().is_some_and(|ast| {
        crate::infer::tables(ast)
            .iter()
            .any(|t| matches!(map.placement(t), TablePlacement::Reference) && is_target(ast, t))
    });
    let inserts = matches!(planned.ast, Some(Statement::Insert(_)));
    if (inserts || writes_reference) && !own_partitions.is_subset(&named) {
        return Route::Misplaced(format!(
            "the rows of this {} belong in partition {}, not in partition {} named by the hint",
            if inserts { "INSERT" } else { "write" },
            list(&own_partitions),
            list(&named)
        ));
    }
    if inserts {
        own
    } else {
        Route::Partitions(named)
    }
}

/// Why an UPDATE (or INSERT ... ON CONFLICT DO UPDATE) that assigns `table`'s shard key
/// could leave a row in a partition its new key does not belong to. Allowed only when the
/// new key is a value of the one partition the statement's rows are in.
fn key_change_refusal(
    ast: &Statement,
    table: &str,
    key: &str,
    map: &PartitionMap,
    partitions: Option<&BTreeSet<usize>>,
    params: &[Option<KeyValue>],
) -> Option<String> {
    use sqlparser::ast::{AssignmentTarget, OnConflictAction, OnInsert};
    let assignments = match ast {
        Statement::Update(u) => &u.assignments,
        Statement::Insert(i) => match &i.on {
            Some(OnInsert::OnConflict(c)) => match &c.action {
                OnConflictAction::DoUpdate(d) => &d.assignments,
                OnConflictAction::DoNothing => return None,
            },
            _ => return None,
        },
        _ => return None,
    };
    let names_key = |n: &sqlparser::ast::ObjectName| {
        n.0.last()
            .and_then(|p| p.as_ident())
            .is_some_and(|i| names_column(i, key))
    };
    let assignment = assignments.iter().find(|a| match &a.target {
        AssignmentTarget::ColumnName(n) => names_key(n),
        AssignmentTarget::Tuple(names) => names.iter().any(names_key),
    })?;
    // `SET k = k`, or an upsert's `SET k = excluded.k`: the key a partition routed the row
    // to, or the key of the row found there.
    let same_key = match &assignment.value {
        Expr::Identifier(i) => names_column(i, key),
        Expr::CompoundIdentifier(parts) => match parts.as_slice() {
            [qualifier, column] => {
                names_column(column, key)
                    && (names_column(qualifier, table)
                        || (matches!(ast, Statement::Insert(_))
                            && names_column(qualifier, "excluded")))
            }
            _ => false,
        },
        _ => false,
    };
    if matches!(assignment.target, AssignmentTarget::ColumnName(_)) && same_key {
        return None;
    }
    let new_partition = match &assignment.target {
        AssignmentTarget::ColumnName(_) => {
            key_value(&assignment.value, params).and_then(|k| map.partition_of(table, &k).ok())
        }
        AssignmentTarget::Tuple(_) => None,
    };
    match (new_partition, partitions) {
        (Some(new), Some(old)) if old.len() == 1 && old.contains(&new) => None,
        _ => Some(format!(
            "changing \"{key}\", the shard key of \"{table}\", could move rows to another partition, and litescale does not move rows between partitions; delete and insert them instead"
        )),
    }
}

/// The partition a hint names, checked against the map.
fn hinted(planned: &PlannedStatement, map: &PartitionMap, hint: &Hint) -> Route {
    match hint {
        Hint::Partition(p) if *p < map.count() => Route::Partitions(BTreeSet::from([*p])),
        Hint::Partition(p) => Route::Refused(format!(
            "the hint names partition {p}, but there are {} partitions",
            map.count()
        )),
        Hint::Key(text) => {
            let sharded = planned.ast.as_ref().and_then(|ast| {
                crate::infer::tables(ast)
                    .into_iter()
                    .find(|t| matches!(map.placement(t), TablePlacement::Sharded { .. }))
            });
            let Some(table) = sharded else {
                return Route::Refused("a key hint needs a sharded table in the statement".into());
            };
            let key = match text.parse::<i64>() {
                Ok(i) => KeyValue::Int(i),
                Err(_) => KeyValue::Text(text.clone()),
            };
            match map.partition_of(&table, &key) {
                Ok(p) => Route::Partitions(BTreeSet::from([p])),
                Err(e) => Route::Refused(e),
            }
        }
    }
}

/// Why an ALTER TABLE would leave rows where the partition map no longer finds them.
fn alter_refusal(map: &PartitionMap, alter: &sqlparser::ast::AlterTable) -> Option<String> {
    use sqlparser::ast::{AlterTableOperation as Op, RenameTableNameKind};
    let table = &last_part(&alter.name);
    let key = match map.placement(table) {
        TablePlacement::Sharded { key } => Some(key),
        _ => None,
    };
    alter.operations.iter().find_map(|op| match op {
        Op::DropColumn { column_names, .. } => key
            .filter(|k| column_names.iter().any(|c| names_column(c, k)))
            .map(|k| format!("\"{k}\" is the shard key of \"{table}\" and cannot be dropped")),
        Op::RenameColumn {
            old_column_name, ..
        } => key
            .filter(|k| names_column(old_column_name, k))
            .map(|k| format!("\"{k}\" is the shard key of \"{table}\" and cannot be renamed")),
        Op::RenameTable {
            table_name: RenameTableNameKind::As(new) | RenameTableNameKind::To(new),
        } => {
            let new = last_part(new);
            (map.table(table).is_some() || map.table(&new).is_some()).then(|| {
                format!(
                    "the partition map places tables by name, so renaming \"{table}\" to \"{new}\" would change where its rows are looked for"
                )
            })
        }
        _ => None,
    })
}

/// Postgres folds unquoted identifiers to lower case, so `AID` names the column `aid`.
fn names_column(ident: &sqlparser::ast::Ident, column: &str) -> bool {
    match ident.quote_style {
        Some(_) => ident.value == column,
        None => ident.value.eq_ignore_ascii_case(column),
    }
}

/// SERIAL types and GENERATED ... AS IDENTITY columns number rows themselves.
fn generates_ids(column: &sqlparser::ast::ColumnDef) -> bool {
    let serial = matches!(&column.data_type, sqlparser::ast::DataType::Custom(name, _)
        if name.to_string().to_ascii_lowercase().contains("serial"));
    serial
        || column
            .options
            .iter()
            .any(|o| matches!(o.option, sqlparser::ast::ColumnOption::Generated { .. }))
}

/// How many `x.k1 = y.k2` conditions join two shard-key columns.
fn key_equalities(ast: &Statement, sharded: &[(&str, &str)]) -> usize {
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

/// The table a sharded table is colocated with, following `colocate_with`.
fn colocation_root<'m>(map: &'m PartitionMap, table: &'m str) -> &'m str {
    let mut current = table;
    for _ in 0..16 {
        match map.table(current).and_then(|t| t.colocate_with.as_deref()) {
            Some(next) => current = next,
            None => break,
        }
    }
    current
}

/// Whether `table` is the one a DML statement writes.
fn is_target(ast: &Statement, table: &str) -> bool {
    match ast {
        Statement::Insert(i) => {
            matches!(&i.table, TableObject::TableName(n) if last_part(n) == table)
        }
        Statement::Update(u) => matches!(&u.table.relation,
            sqlparser::ast::TableFactor::Table { name, .. } if last_part(name) == table),
        Statement::Delete(_) => true,
        _ => false,
    }
}

/// The key values of an INSERT's VALUES rows; `None` if a row has no usable key.
fn insert_keys(
    insert: &sqlparser::ast::Insert,
    table: &str,
    key: &str,
    params: &[Option<KeyValue>],
    schema: &dyn crate::Schema,
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
