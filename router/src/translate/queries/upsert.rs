//! INSERT ... ON CONFLICT where SQLite's upsert differs from Postgres'.
//!
//! `ON CONFLICT ON CONSTRAINT name`: SQLite names the conflict's columns, never a
//! constraint. Postgres names a one-column UNIQUE constraint `<table>_<column>_key`, so
//! that name becomes its column. Any other name (a primary key's `<table>_pkey`, a named
//! constraint) needs the table's schema, which the router does not have: refused.
//!
//! `DO UPDATE` on a row the same INSERT wrote: Postgres refuses (21000), SQLite updates it
//! again. Two VALUES rows carrying the same constant key are refused here; keys that are
//! parameters or expressions are not compared.

use sqlparser::ast::{
    ConflictTarget, Expr, Ident, Insert, OnConflict, OnConflictAction, OnInsert, SetExpr,
    Statement, TableObject, Value,
};

use crate::RouterError;
use crate::infer::schema::last_part;

/// Rewrites an INSERT's `ON CONFLICT ON CONSTRAINT <table>_<column>_key` into
/// `ON CONFLICT (<column>)`, refusing other constraint names; then refuses a DO UPDATE
/// that would update a row the INSERT itself wrote.
pub(super) fn rewrite(ast: &mut Statement) -> Result<(), RouterError> {
    let Statement::Insert(insert) = ast else {
        return Ok(());
    };
    name_constraint_columns(insert)?;
    refuse_second_update(insert)
}

fn name_constraint_columns(insert: &mut Insert) -> Result<(), RouterError> {
    let Insert {
        table: TableObject::TableName(table),
        on: Some(OnInsert::OnConflict(conflict)),
        ..
    } = insert
    else {
        return Ok(());
    };
    let Some(ConflictTarget::OnConstraint(constraint)) = &conflict.conflict_target else {
        return Ok(());
    };
    let prefix = format!("{}_", last_part(table));
    let column = last_part(constraint)
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix("_key"))
        .filter(|column| !column.is_empty())
        .map(Ident::new)
        .ok_or_else(|| {
            RouterError::unsupported(
                "ON CONFLICT ON CONSTRAINT with a name other than <table>_<column>_key",
            )
        })?;
    conflict.conflict_target = Some(ConflictTarget::Columns {
        columns: vec![column],
        predicate: None,
    });
    Ok(())
}

fn refuse_second_update(insert: &Insert) -> Result<(), RouterError> {
    let Some(OnInsert::OnConflict(OnConflict {
        conflict_target:
            Some(ConflictTarget::Columns {
                columns: target,
                // A partial index may not hold the rows at all.
                predicate: None,
            }),
        action: OnConflictAction::DoUpdate(_),
    })) = &insert.on
    else {
        return Ok(());
    };
    let Some(SetExpr::Values(values)) = insert.source.as_ref().map(|s| s.body.as_ref()) else {
        return Ok(());
    };
    let Some(positions) = target
        .iter()
        .map(|c| {
            insert
                .columns
                .iter()
                .position(|named| last_part(named).eq_ignore_ascii_case(&c.value))
        })
        .collect::<Option<Vec<usize>>>()
    else {
        return Ok(());
    };
    // NULL keys never conflict, and a parameter may be NULL.
    let constant = |e: &Expr| match e {
        Expr::Value(v) if !matches!(v.value, Value::Null | Value::Placeholder(_)) => {
            Some(v.value.clone())
        }
        _ => None,
    };
    let mut seen: Vec<Vec<Value>> = Vec::new();
    for row in &values.rows {
        let Some(key) = positions
            .iter()
            .map(|&p| row.get(p).and_then(constant))
            .collect::<Option<Vec<Value>>>()
        else {
            continue;
        };
        if seen.contains(&key) {
            return Err(RouterError {
                sqlstate: "21000",
                message: "ON CONFLICT DO UPDATE command cannot affect row a second time".to_owned(),
            });
        }
        seen.push(key);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::test_support::sql;

    #[test]
    fn a_unique_constraints_name_becomes_its_column() {
        assert_eq!(
            sql(
                "insert into users (email) values ('a') on conflict on constraint users_email_key do nothing"
            ),
            "INSERT INTO users (email) VALUES (pg_assign('users', 'email', 'a')) ON CONFLICT(email) DO NOTHING"
        );
        for refused in [
            "insert into stock (sku) values ('a') on conflict on constraint stock_pkey do nothing",
            "insert into stock (sku) values ('a') on conflict on constraint other_sku_key do nothing",
        ] {
            assert_eq!(
                crate::plan(refused).unwrap_err().sqlstate,
                "0A000",
                "{refused}"
            );
        }
    }

    #[test]
    fn do_update_of_a_row_the_insert_wrote_is_refused() {
        let twice =
            "insert into t (k, n) values ('m', 1), ('m', 2) on conflict (k) do update set n = 0";
        assert_eq!(crate::plan(twice).unwrap_err().sqlstate, "21000");
        for once in [
            "insert into t (k, n) values ('m', 1), ('n', 2) on conflict (k) do update set n = 0",
            "insert into t (k, n) values (null, 1), (null, 2) on conflict (k) do update set n = 0",
            "insert into t (k, n) values ($1, 1), ($1, 2) on conflict (k) do update set n = 0",
            "insert into t (k, n) values ('m', 1), ('m', 2) on conflict (k) do nothing",
        ] {
            assert!(crate::plan(once).is_ok(), "{once}");
        }
    }
}
