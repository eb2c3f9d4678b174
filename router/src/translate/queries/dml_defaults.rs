//! The keyword DEFAULT in INSERT's VALUES and in UPDATE's (and ON CONFLICT DO UPDATE's)
//! SET, which SQLite does not take. The router knows no schema, so each DEFAULT becomes
//! `pg_column_default('table', column)`: the shard evaluates the default the table's
//! schema holds for that column (NULL where it has none, which an INTEGER PRIMARY KEY turns
//! into its next number on INSERT). An INSERT without a column list names the column by
//! its position (from 0).

use sqlparser::ast::{
    Assignment, AssignmentTarget, DoUpdate, Expr, Insert, ObjectName, OnConflictAction, OnInsert,
    SetExpr, Statement, TableFactor, TableObject, Update,
};

use super::super::sql::{call, number, string};
use crate::infer::schema::last_part;

/// Rewrites every DEFAULT of an INSERT or UPDATE into the column's evaluated default.
pub(super) fn rewrite(ast: &mut Statement) {
    match ast {
        Statement::Insert(insert) => rewrite_insert(insert),
        Statement::Update(Update {
            table, assignments, ..
        }) => {
            if let TableFactor::Table { name, .. } = &table.relation {
                let table = last_part(name);
                rewrite_assignments(&table, assignments);
            }
        }
        _ => {}
    }
}

fn rewrite_insert(insert: &mut Insert) {
    let TableObject::TableName(name) = &insert.table else {
        return;
    };
    let table = last_part(name);
    if let Some(source) = &mut insert.source
        && let SetExpr::Values(values) = source.body.as_mut()
    {
        for row in &mut values.rows {
            for (position, value) in row.iter_mut().enumerate() {
                if is_default(value) {
                    let column = match insert.columns.get(position) {
                        Some(named) => string(&last_part(named)),
                        None if insert.columns.is_empty() => number(position),
                        // More values than columns: SQLite answers that.
                        None => continue,
                    };
                    *value = call("pg_column_default", vec![string(&table), column]);
                }
            }
        }
    }
    if let Some(OnInsert::OnConflict(conflict)) = &mut insert.on
        && let OnConflictAction::DoUpdate(DoUpdate { assignments, .. }) = &mut conflict.action
    {
        rewrite_assignments(&table, assignments);
    }
}

fn rewrite_assignments(table: &str, assignments: &mut [Assignment]) {
    for assignment in assignments {
        match (&assignment.target, &mut assignment.value) {
            (AssignmentTarget::ColumnName(column), value) => {
                replace_default(table, column, value);
            }
            (AssignmentTarget::Tuple(columns), Expr::Tuple(values)) => {
                for (column, value) in columns.iter().zip(values) {
                    replace_default(table, column, value);
                }
            }
            _ => {}
        }
    }
}

fn replace_default(table: &str, column: &ObjectName, value: &mut Expr) {
    if is_default(value) {
        *value = call(
            "pg_column_default",
            vec![string(table), string(&last_part(column))],
        );
    }
}

/// sqlparser reads DEFAULT where a value goes as the bare word.
fn is_default(e: &Expr) -> bool {
    matches!(e, Expr::Identifier(i) if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("default"))
}

#[cfg(test)]
mod tests {
    use crate::test_support::sql;

    #[test]
    fn default_becomes_the_columns_evaluated_default() {
        assert_eq!(
            sql("insert into t (a, b) values (1, default), (default, 2) returning b"),
            "INSERT INTO t (a, b) VALUES (1, pg_column_default('t', 'b')), (pg_column_default('t', 'a'), 2) RETURNING b"
        );
        assert_eq!(
            sql("insert into s.t values (1, default)"),
            "INSERT INTO s.t VALUES (1, pg_column_default('t', 1))"
        );
        assert_eq!(
            sql("update t set a = default, (b, c) = (default, 1) where \"default\" = 1"),
            "UPDATE t SET a = pg_column_default('t', 'a'), (b, c) = (pg_column_default('t', 'b'), 1) WHERE \"default\" = 1"
        );
        assert!(
            sql("insert into t (a) values (1) on conflict (a) do update set b = default")
                .ends_with("DO UPDATE SET b = pg_column_default('t', 'b')")
        );
    }
}
