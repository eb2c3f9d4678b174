//! Values INSERT's VALUES and UPDATE's (and ON CONFLICT DO UPDATE's) SET write where SQLite
//! reads them otherwise. The router knows no schema, so it asks the shard, which reads the
//! table's:
//! - DEFAULT, which SQLite does not take there, becomes `pg_column_default('table',
//!   column)`: the default the schema holds for that column, evaluated (NULL where it has
//!   none, which an INTEGER PRIMARY KEY turns into its next number on INSERT);
//! - a NULL becomes `pg_insert_null('table', column)`: NULL, refused (23502) in a primary
//!   key column, which Postgres keeps NOT NULL and SQLite does not (it numbers the row for
//!   an INTEGER PRIMARY KEY);
//! - any other value becomes `pg_assign('table', column, value)`: the value as Postgres'
//!   assignment to the column's type makes it (numeric(p, s) rounded to its scale, 22003
//!   past its precision; a fraction into an integer column rounded).
//!
//! An INSERT without a column list names the column by its position (from 0).

use sqlparser::ast::{
    Assignment, AssignmentTarget, DoUpdate, Expr, Insert, ObjectName, OnConflictAction, OnInsert,
    SetExpr, Statement, TableFactor, TableObject, Update, Value,
};

use super::super::sql::{call, number, string};
use crate::infer::schema::last_part;

/// Rewrites every value an INSERT's VALUES or an UPDATE's SET writes into the shard's
/// reading of it.
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
                let column = match insert.columns.get(position) {
                    Some(named) => string(&last_part(named)),
                    None if insert.columns.is_empty() => number(position),
                    // More values than columns: SQLite answers that.
                    None => continue,
                };
                replace_written(&table, column, value);
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
    let name = |column: &ObjectName| string(&last_part(column));
    for assignment in assignments {
        match (&assignment.target, &mut assignment.value) {
            (AssignmentTarget::ColumnName(column), value) => {
                replace_written(table, name(column), value);
            }
            (AssignmentTarget::Tuple(columns), Expr::Tuple(values)) => {
                for (column, value) in columns.iter().zip(values) {
                    replace_written(table, name(column), value);
                }
            }
            _ => {}
        }
    }
}

/// `value`, written into `column` (its name or position) of `table`, as the shard reads it.
fn replace_written(table: &str, column: Expr, value: &mut Expr) {
    let function = match value {
        // sqlparser reads DEFAULT where a value goes as the bare word.
        Expr::Identifier(i)
            if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("default") =>
        {
            "pg_column_default"
        }
        Expr::Value(v) if v.value == Value::Null => "pg_insert_null",
        _ => {
            *value = call("pg_assign", vec![string(table), column, value.clone()]);
            return;
        }
    };
    *value = call(function, vec![string(table), column]);
}

#[cfg(test)]
mod tests {
    use crate::test_support::sql;

    #[test]
    fn null_is_checked_against_the_primary_key() {
        assert_eq!(
            sql("insert into t values (null, 'x') returning id"),
            "INSERT INTO t VALUES (pg_insert_null('t', 0), pg_assign('t', 1, 'x')) RETURNING id"
        );
        assert_eq!(
            sql("update t set a = null where b is null"),
            "UPDATE t SET a = pg_insert_null('t', 'a') WHERE b IS NULL"
        );
    }

    #[test]
    fn default_becomes_the_columns_evaluated_default() {
        assert_eq!(
            sql("insert into t (a, b) values (1, default), (default, 2) returning b"),
            "INSERT INTO t (a, b) VALUES (pg_assign('t', 'a', 1), pg_column_default('t', 'b')), (pg_column_default('t', 'a'), pg_assign('t', 'b', 2)) RETURNING b"
        );
        assert_eq!(
            sql("insert into s.t values (1, default)"),
            "INSERT INTO \"s.t\" AS \"t\" VALUES (pg_assign('s.t', 0, 1), pg_column_default('s.t', 1))"
        );
        assert_eq!(
            sql("update t set a = default, (b, c) = (default, 1) where \"default\" = 1"),
            "UPDATE t SET a = pg_column_default('t', 'a'), (b, c) = (pg_column_default('t', 'b'), pg_assign('t', 'c', 1)) WHERE \"default\" = 1"
        );
        assert!(
            sql("insert into t (a) values (1) on conflict (a) do update set b = default")
                .ends_with("DO UPDATE SET b = pg_column_default('t', 'b')")
        );
    }
}
