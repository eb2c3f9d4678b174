//! Where a statement goes in a partitioned database: which partitions, and why. Pure:
//! the partition map comes from the config, parameter values from Bind.

use std::collections::BTreeSet;

use litescale_config::{KeyValue, PartitionMap, TablePlacement};
use sqlparser::ast::{Expr, SetExpr, Statement, TableObject};

use super::keys::{
    insert_keys, key_equalities, key_value, names_column, partitions_of, pinned_keys,
};
use crate::infer::schema::{Schema, last_part, tables};
use crate::plan::hint::Hint;
use crate::plan::statement::{PlannedStatement, StatementKind, WriteKind};

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

/// Where `planned` runs, given the map and the values of its parameters (`None` where a
/// parameter is not a usable key, e.g. NULL or not yet bound).
pub fn route(
    planned: &PlannedStatement,
    map: &PartitionMap,
    params: &[Option<KeyValue>],
    schema: &dyn Schema,
) -> Route {
    if map.count() == 1 {
        return Route::Partitions(BTreeSet::from([0]));
    }
    let hint = planned
        .hint
        .as_ref()
        .filter(|_| !matches!(planned.kind, StatementKind::Ddl(_)));
    let route = match hint {
        // A read may look at any part of the data it likes.
        Some(hint) if planned.kind == StatementKind::Read => hinted(planned, map, hint),
        Some(hint) => hinted_write(
            planned,
            map,
            hinted(planned, map, hint),
            by_statement(planned, map, params, schema),
        ),
        None => by_statement(planned, map, params, schema),
    };
    // Every partition keeps a copy of each sequence, which moves where a statement runs:
    // the copies stay equal (and a number unique) only if it runs on all of them.
    if !matches!(route, Route::All | Route::Refused(_))
        && planned.ast.as_ref().is_some_and(|ast| {
            crate::classify::functions_called(ast)
                .iter()
                .any(|f| f == "nextval" || f == "setval")
        })
    {
        return Route::Refused(
            "nextval() or setval() in a partitioned database but in a write to a reference \
             table (each partition keeps a copy of the sequence)"
                .to_owned(),
        );
    }
    // Rows locked on several partitions' writers would come back unmerged.
    match route {
        Route::All => locking_refused(planned).unwrap_or(Route::All),
        Route::Partitions(p) if p.len() > 1 => {
            locking_refused(planned).unwrap_or(Route::Partitions(p))
        }
        other => other,
    }
}

/// Whether `planned` writes a reference table, which every partition holds a copy of: it
/// runs on each, and its answer (the row count, RETURNING's rows) is one copy's.
pub fn writes_copies(planned: &PlannedStatement, map: &PartitionMap) -> bool {
    let Some(ast) = &planned.ast else {
        return false;
    };
    matches!(planned.kind, StatementKind::Write(_))
        && tables(ast)
            .iter()
            .any(|t| map.placement(t) == TablePlacement::Reference && is_target(ast, t))
}

fn locking_refused(planned: &PlannedStatement) -> Option<Route> {
    (planned.kind == StatementKind::Write(WriteKind::LockRows)).then(|| {
        Route::Refused(
            "SELECT ... FOR UPDATE / FOR SHARE on several partitions (name the partition key)"
                .to_owned(),
        )
    })
}

/// Where the statement itself says it goes: its keys, its tables' placement.
fn by_statement(
    planned: &PlannedStatement,
    map: &PartitionMap,
    params: &[Option<KeyValue>],
    schema: &dyn Schema,
) -> Route {
    let writes = !matches!(planned.kind, StatementKind::Read);
    if matches!(planned.kind, StatementKind::Ddl(_)) {
        if let Some(Statement::CreateTable(create)) = &planned.ast
            && let name = last_part(&create.name)
            && let TablePlacement::Sharded { key } = map.placement(&name)
        {
            if create
                .columns
                .iter()
                .any(crate::translate::columns::generates_ids)
            {
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
        if matches!(&planned.ast, Some(Statement::CreateView(v)) if v.materialized) {
            return Route::Refused(
                "materialized views in a partitioned database (each partition would keep the \
                 rows of its own share)"
                    .to_owned(),
            );
        }
        return Route::All;
    }
    let Some(ast) = &planned.ast else {
        return Route::Refused(
            "this statement cannot be routed in a partitioned database yet".into(),
        );
    };
    let tables = tables(ast);
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
        tables(ast)
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
                tables(ast)
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
