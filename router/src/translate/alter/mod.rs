//! ALTER TABLE operations SQLite's own ALTER TABLE cannot make (ALTER COLUMN, ADD/DROP
//! CONSTRAINT of a foreign key or CHECK). The table's definition, read from SQLite, is
//! changed (`changes`); then it is written over in place when every stored row stays as it
//! is (`in_place`), or else the table is made again and its rows copied (`rebuild`). Either
//! way one batch in one transaction: a row the new definition refuses fails the ALTER with
//! Postgres' SQLSTATE and leaves table and data as they were. It must not know sessions or
//! partitions: a definition comes in, SQLite statements go out.
//!
//! COMMENT ON TABLE | COLUMN is written into the definition in place too (`comments`);
//! what CREATE TABLE ... (LIKE t) copies is read from t's definition here as well
//! ([`columns_like`]).
//!
//! The views that read a renamed table or column keep their Postgres query in step
//! (`dependent_views`).
//!
//! Order inside: `changes` <- `in_place`, `rebuild`; `in_place` <- `comments`;
//! `dependent_views` alone.

mod changes;
mod comments;
mod dependent_views;
mod in_place;
mod rebuild;

pub(super) use comments::comment;
pub(super) use dependent_views::{POSTGRES_QUERY_MARK, Rename, rewritten as views_renamed};

use sqlparser::ast::{
    AlterTable, AlterTableOperation as Op, ColumnDef, ColumnOption, CreateTable, Expr, GeneratedAs,
    Ident, ObjectName, Statement, TableConstraint,
};

use crate::RouterError;
use crate::infer::schema::{TableDefinition, last_part};

/// Whether an ALTER TABLE operation needs the table's definition: to change it, or to be
/// settled against the table's columns and indexes ([`settle`]).
pub(super) fn needs_definition(op: &Op) -> bool {
    changes_definition(op)
        || matches!(
            op,
            Op::AddColumn {
                if_not_exists: true,
                ..
            } | Op::DropColumn { .. }
        )
}

/// Whether an ALTER TABLE operation renames the table or a column of it, which the views
/// that read it follow ([`views_renamed`]).
pub(super) fn renames(op: &Op) -> bool {
    matches!(op, Op::RenameTable { .. } | Op::RenameColumn { .. })
}

/// Whether an ALTER TABLE operation changes the definition in a way SQLite's own ALTER
/// TABLE cannot.
pub(super) fn changes_definition(op: &Op) -> bool {
    match op {
        Op::AlterColumn { .. } | Op::DropConstraint { .. } => true,
        Op::AddConstraint { constraint, .. } => matches!(
            constraint,
            TableConstraint::ForeignKey(_) | TableConstraint::Check(_)
        ),
        _ => false,
    }
}

/// What SQLite's ALTER TABLE lacks, settled against the table's definition: an ADD COLUMN
/// IF NOT EXISTS of a column the table has and a DROP COLUMN IF EXISTS of one it has not
/// are skipped (whether the table is altered in place or made again), and the indexes of a
/// dropped column are dropped first, as Postgres drops them with it. Answers those DROP
/// INDEX statements, the operations left, and the definition without those indexes.
pub(super) fn settle(
    alter: &AlterTable,
    mut definition: TableDefinition,
) -> Result<(Vec<String>, AlterTable, TableDefinition), RouterError> {
    let existing = column_names(&definition)?;
    let has = |name: &Ident| existing.iter().any(|c| c.eq_ignore_ascii_case(&name.value));
    let mut alter = alter.clone();
    alter.operations.retain(|op| match op {
        Op::AddColumn {
            if_not_exists: true,
            column_def,
            ..
        } => !has(&column_def.name),
        _ => true,
    });
    let mut dropped = Vec::new();
    let mut sequences = Vec::new();
    for op in &mut alter.operations {
        match op {
            // `ADD GENERATED ... AS IDENTITY` (pg_dump's way to make an identity column): the
            // column's own sequence, and its default that calls it.
            Op::AlterColumn {
                column_name,
                op:
                    sqlparser::ast::AlterColumnOperation::AddGenerated {
                        generated_as,
                        sequence_options,
                    },
            } => {
                use crate::translate::objects::sequences::{
                    create_owned, identity_check, next_value, sequence_type, serial_sequence_name,
                };
                let table = last_part(&alter.name);
                let mut create = parse_create(&definition.create)?;
                let Some(column) = create
                    .columns
                    .iter()
                    .find(|c| c.name.value.eq_ignore_ascii_case(&column_name.value))
                else {
                    return Err(missing_column(&column_name.value, &table));
                };
                if !column
                    .options
                    .iter()
                    .any(|o| matches!(o.option, ColumnOption::NotNull))
                {
                    return Err(RouterError {
                        sqlstate: "55000",
                        message: format!(
                            "column \"{}\" of relation \"{table}\" must be declared NOT NULL \
                             before identity can be added",
                            column.name.value
                        ),
                    });
                }
                sequences.push(create_owned(
                    &table,
                    &column.name.value,
                    sequence_type(&column.data_type)?,
                    sequence_options.as_deref().unwrap_or_default(),
                    false,
                )?);
                let identity = generated_as.unwrap_or(GeneratedAs::ByDefault);
                let sequence = serial_sequence_name(&table, &column.name.value);
                let value = next_value(&sequence, Some(&identity));
                // The rows it holds keep their numbers; new ones take the sequence's.
                if identity == GeneratedAs::Always {
                    let check = identity_check(&sequence, &column.name.value);
                    if let Some(column) = create
                        .columns
                        .iter_mut()
                        .find(|c| c.name.value.eq_ignore_ascii_case(&column_name.value))
                    {
                        column.options.push(check);
                    }
                    definition.create = Statement::CreateTable(create).to_string();
                }
                *op = Op::AlterColumn {
                    column_name: column_name.clone(),
                    op: sqlparser::ast::AlterColumnOperation::SetDefault { value },
                };
            }
            Op::AddColumn { if_not_exists, .. } => *if_not_exists = false,
            Op::DropColumn {
                column_names,
                if_exists,
                drop_behavior,
                ..
            } => {
                if *if_exists {
                    column_names.retain(&has);
                } else if let Some(missing) = column_names.iter().find(|c| !has(c)) {
                    return Err(missing_column(&missing.value, &last_part(&alter.name)));
                }
                *if_exists = false;
                *drop_behavior = None;
                dropped.extend(column_names.iter().map(|c| c.value.to_ascii_lowercase()));
            }
            _ => {}
        }
    }
    alter
        .operations
        .retain(|op| !matches!(op, Op::DropColumn { column_names, .. } if column_names.is_empty()));
    let (on_dropped, kept): (Vec<_>, Vec<_>) = definition
        .dependents
        .into_iter()
        .partition(|(_, sql)| index_names_any_of(sql, &dropped));
    definition.dependents = kept;
    let mut before: Vec<String> = on_dropped
        .iter()
        .map(|(index, _)| format!("DROP INDEX {}", Ident::with_quote('"', index)))
        .chain(sequences)
        .collect();
    // The table's CHECKs that name a dropped column go with it, as in Postgres (SQLite
    // would refuse to drop the column).
    if !dropped.is_empty() {
        let mut create = parse_create(&definition.create)?;
        let count = create.constraints.len();
        create.constraints.retain(
            |c| !matches!(c, TableConstraint::Check(check) if names_any_of(&check.expr, &dropped)),
        );
        if create.constraints.len() != count {
            before.push(in_place::definition_written(
                &last_part(&alter.name),
                &create,
            ));
            definition.create = Statement::CreateTable(create).to_string();
        }
    }
    Ok((before, alter, definition))
}

/// Whether `expr` names one of `columns` (lowercase).
fn names_any_of(expr: &Expr, columns: &[String]) -> bool {
    let mut found = false;
    let _ = sqlparser::ast::visit_expressions(expr, |e| {
        let name = match e {
            Expr::Identifier(i) => Some(&i.value),
            Expr::CompoundIdentifier(parts) => parts.last().map(|i| &i.value),
            _ => None,
        };
        found |= name.is_some_and(|n| columns.contains(&n.to_ascii_lowercase()));
        std::ops::ControlFlow::<()>::Continue(())
    });
    found
}

fn missing_column(column: &str, table: &str) -> RouterError {
    RouterError {
        sqlstate: "42703",
        message: format!("column \"{column}\" of relation \"{table}\" does not exist"),
    }
}

/// Whether `sql` is a CREATE INDEX that names one of `columns` (lowercase).
fn index_names_any_of(sql: &str, columns: &[String]) -> bool {
    let Ok(Some(Statement::CreateIndex(index))) =
        sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::SQLiteDialect {}, sql)
            .map(|mut s| s.pop())
    else {
        return false;
    };
    let mut named = false;
    let _ = sqlparser::ast::visit_expressions(&index, |e| {
        if let Expr::Identifier(i) = e {
            named |= columns.contains(&i.value.to_ascii_lowercase());
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    named
}

/// The statements that apply `ops` to the table `definition` describes.
pub(super) fn alter_table(
    table: &ObjectName,
    ops: &[Op],
    definition: &TableDefinition,
) -> Result<Vec<String>, RouterError> {
    let name = last_part(table);
    let before = parse_create(&definition.create)?;
    let changed = changes::apply_all(&name, &before, ops, definition)?;
    Ok(if in_place::applies(ops, &before, &changed) {
        in_place::statements(table, ops, &changed)
    } else {
        rebuild::statements(table, changed, definition)
    })
}

/// The columns CREATE TABLE ... (LIKE t) copies from `definition`: names, types, NOT NULL,
/// and the defaults when `including_defaults`; no keys or other constraints, as Postgres
/// copies none without INCLUDING them. (The types' rules come with the new table's own.)
/// The columns (and table constraints) `CREATE TABLE ... (LIKE t ...)` copies from t's
/// definition: names, types and NOT NULL always; defaults, CHECK constraints, PRIMARY KEY
/// and UNIQUE, and generated columns' expressions where included. Foreign keys never,
/// as in Postgres.
pub(super) fn columns_like(
    source: &str,
    definition: &TableDefinition,
    including_defaults: bool,
    including_constraints: bool,
    including_indexes: bool,
    including_generated: bool,
) -> Result<(Vec<ColumnDef>, Vec<TableConstraint>), RouterError> {
    let create = parse_create(&definition.create)?;
    let mut columns = create.columns.clone();
    for column in &mut columns {
        // A key's columns are NOT NULL, which is copied though the key is not.
        if changes::in_primary_key(column, &create)
            && !column
                .options
                .iter()
                .any(|o| matches!(o.option, ColumnOption::NotNull))
        {
            column
                .options
                .push(crate::translate::columns::option(ColumnOption::NotNull));
        }
        // A copied CHECK keeps the name it has on t (`t_c_check` where it was not named).
        let copied_check = format!("{source}_{}_check", column.name.value);
        for option in &mut column.options {
            if matches!(&option.option, ColumnOption::Check(c) if is_clients_check(&c.expr))
                && option.name.is_none()
            {
                option.name = Some(Ident::with_quote('"', copied_check.clone()));
            }
        }
        column.options.retain(|o| match &o.option {
            ColumnOption::NotNull => true,
            ColumnOption::Default(_) => including_defaults,
            // The client's CHECKs; the type checks the column's type brings are made again.
            ColumnOption::Check(c) => including_constraints && is_clients_check(&c.expr),
            ColumnOption::PrimaryKey(_) | ColumnOption::Unique(_) => including_indexes,
            ColumnOption::Generated { .. } => including_generated,
            _ => false,
        });
    }
    let constraints = create
        .constraints
        .into_iter()
        .filter(|c| match c {
            TableConstraint::Check(c) => including_constraints && is_clients_check(&c.expr),
            TableConstraint::PrimaryKey(_) | TableConstraint::Unique(_) => including_indexes,
            _ => false,
        })
        .collect();
    Ok((columns, constraints))
}

/// A CHECK the client wrote, which litescale keeps as `pg_check(expr, 'text')`
/// (translate/columns.rs), not one it adds for a column's type.
fn is_clients_check(expr: &Expr) -> bool {
    matches!(expr, Expr::Function(f) if last_part(&f.name) == "pg_check")
}

/// The columns of a table as its definition declares them.
pub(super) fn column_names(definition: &TableDefinition) -> Result<Vec<String>, RouterError> {
    Ok(parse_create(&definition.create)?
        .columns
        .into_iter()
        .map(|c| c.name.value)
        .collect())
}

pub(super) fn parse_create(sql: &str) -> Result<CreateTable, RouterError> {
    let statement =
        sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::SQLiteDialect {}, sql)
            .ok()
            .and_then(|mut s| s.pop());
    match statement {
        Some(Statement::CreateTable(mut create)) => {
            crate::translate::sql::render_strings_as_written(&mut create);
            Ok(create)
        }
        _ => Err(RouterError::unsupported(
            "ALTER TABLE of a table whose definition litescale cannot read",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infer::schema::{NoSchema, Schema};
    use crate::{PgType, SessionContext, plan, plan_with_schema};

    /// A table `perm` with an index, as SQLite keeps it.
    struct Perm;

    impl Schema for Perm {
        fn column_type(&self, _: &str, _: &str) -> Option<PgType> {
            NoSchema.column_type("", "")
        }
        fn columns(&self, _: &str) -> Vec<String> {
            Vec::new()
        }
        fn definition(&self, table: &str) -> Option<TableDefinition> {
            (table == "perm").then(|| TableDefinition {
                create: "CREATE TABLE perm (id INTEGER PRIMARY KEY, ct_id INT NOT NULL, \
                         code VARCHAR(10) CONSTRAINT \"litescale_length_varying_10\" \
                         CHECK (length(code) <= 10))"
                    .to_owned(),
                dependents: vec![(
                    "perm_code".to_owned(),
                    "CREATE INDEX perm_code ON perm(code)".to_owned(),
                )],
                views: Vec::new(),
            })
        }
    }

    fn planned(sql: &str) -> Vec<String> {
        let planned = &plan(sql).unwrap()[0];
        assert!(
            planned.needs_schema && planned.sqlite_sql.is_empty(),
            "{sql}"
        );
        plan_with_schema(planned, &Perm, &SessionContext::default())
            .unwrap()
            .sqlite_sql
            .split(";\n")
            .map(str::to_owned)
            .collect()
    }

    /// The statements between the reference check and the flag's reset.
    fn rebuild_steps(sql: &str) -> Vec<String> {
        let all = planned(sql);
        assert!(all[0].starts_with("SELECT pg_raise('0A000'"), "{all:?}");
        assert_eq!(all[1], "PRAGMA legacy_alter_table = ON");
        assert_eq!(all.last().unwrap(), "PRAGMA legacy_alter_table = OFF");
        all[2..all.len() - 1].to_vec()
    }

    const PERM: &str = "CREATE TABLE perm (id INTEGER PRIMARY KEY, ct_id INT NOT NULL, \
                        code VARCHAR(10) CONSTRAINT \"litescale_length_varying_10\" \
                        CHECK (length(code) <= 10)";

    fn written(create: &str) -> String {
        format!(
            "SELECT litescale_set_table_definition('perm', {})",
            crate::parse::lexical::string_literal(create)
        )
    }

    #[test]
    fn constraints_and_defaults_are_written_in_place_after_the_rows_are_checked() {
        assert_eq!(
            planned(
                "ALTER TABLE perm ADD CONSTRAINT perm_fk FOREIGN KEY (ct_id) REFERENCES ct (id) \
                 DEFERRABLE INITIALLY DEFERRED"
            ),
            [
                written(&format!(
                    "{PERM}, CONSTRAINT perm_fk FOREIGN KEY (ct_id) REFERENCES ct(id) \
                     DEFERRABLE INITIALLY DEFERRED)"
                )),
                "SELECT pg_raise('23503', 'insert or update on table \"perm\" violates foreign \
                 key constraint \"perm_fk\"') FROM pragma_foreign_key_check('perm') \
                 WHERE \"parent\" = 'ct' COLLATE NOCASE LIMIT 1"
                    .to_owned(),
            ]
        );
        assert_eq!(
            planned(
                "ALTER TABLE perm ALTER COLUMN ct_id DROP NOT NULL, ALTER COLUMN code SET DEFAULT 'x'"
            ),
            [
                // The values rows read from the old DEFAULT are kept in the rows first.
                "UPDATE \"perm\" SET \"code\" = \"code\" WHERE \"code\" IS NOT NULL".to_owned(),
                written(
                    "CREATE TABLE perm (id INTEGER PRIMARY KEY, ct_id INT, code VARCHAR(10) \
                     CONSTRAINT \"litescale_length_varying_10\" CHECK (length(code) <= 10) DEFAULT 'x')"
                )
            ]
        );
        let checked = planned(
            "ALTER TABLE perm ALTER COLUMN ct_id SET NOT NULL, ADD CHECK (ct_id > 0), \
             ALTER COLUMN code TYPE varchar(3)",
        );
        assert_eq!(
            checked[..3],
            [
                "SELECT pg_raise('23502', 'column \"ct_id\" of relation \"perm\" contains null \
                 values') FROM perm WHERE ct_id IS NULL LIMIT 1",
                "SELECT pg_raise('23514', 'check constraint \"perm_check\" of relation \"perm\" \
                 is violated by some row') FROM perm WHERE NOT (pg_check(ct_id > 0, 'ct_id > 0')) LIMIT 1",
                "SELECT pg_raise('22001', 'value too long for type character varying(3)') FROM \
                 perm WHERE length(code) > 3 LIMIT 1",
            ]
        );
        assert!(
            checked[3].contains("code VARCHAR(3) CONSTRAINT \"litescale_length_varying_3\""),
            "{}",
            checked[3]
        );
        // A UNIQUE kept as an index is dropped with its index.
        assert_eq!(
            planned("ALTER TABLE perm DROP CONSTRAINT perm_code"),
            [
                written(&format!("{PERM})")),
                "DROP INDEX \"perm_code\"".to_owned()
            ]
        );
    }

    #[test]
    fn what_changes_the_stored_rows_makes_the_table_again() {
        assert_eq!(
            rebuild_steps(
                "ALTER TABLE perm ADD COLUMN IF NOT EXISTS code text, ADD COLUMN IF NOT EXISTS \
                 n int, ALTER COLUMN ct_id DROP NOT NULL"
            )[1],
            // A column the table has is not added again when the table is made again.
            "CREATE TABLE perm (id INTEGER PRIMARY KEY, ct_id INT, code VARCHAR(10) \
             CONSTRAINT \"litescale_length_varying_10\" CHECK (length(code) <= 10), \
             n INT CHECK (pg_typecheck(n, 'INT')))"
        );
        // The old type's length check goes; the new type's rules come.
        let changed =
            rebuild_steps("ALTER TABLE perm ALTER COLUMN code TYPE int USING length(code)");
        assert_eq!(
            changed,
            [
                "ALTER TABLE perm RENAME TO \"perm__before_alter\"",
                "CREATE TABLE perm (id INTEGER PRIMARY KEY, ct_id INT NOT NULL, code INT \
                 CHECK (pg_typecheck(code, 'INT')))",
                "INSERT INTO perm (id, ct_id, code) SELECT id, ct_id, length(code) FROM \
                 \"perm__before_alter\" /* litescale:overriding system value */",
                "DROP TABLE \"perm__before_alter\"",
                "CREATE INDEX perm_code ON perm(code)",
            ]
        );
        // Narrowing an integer, a text type to an integer: conversions.
        rebuild_steps("ALTER TABLE perm ALTER COLUMN ct_id TYPE smallint");
        rebuild_steps("ALTER TABLE perm ALTER COLUMN code TYPE bigint");
        // A cast that truncates cuts the longer values, in place.
        assert_eq!(
            planned("ALTER TABLE perm ALTER COLUMN code TYPE varchar(3) USING code::varchar(3)")[0],
            "UPDATE \"perm\" SET \"code\" = substr(\"code\", 1, 3) WHERE length(\"code\") > 3"
        );
        assert_eq!(
            planned("ALTER TABLE perm ALTER COLUMN ct_id TYPE bigint").len(),
            1
        );
        let refused = plan_with_schema(
            &plan("ALTER TABLE perm ALTER COLUMN id DROP NOT NULL").unwrap()[0],
            &Perm,
            &SessionContext::default(),
        )
        .unwrap_err();
        assert_eq!(refused.sqlstate, "42P16");
    }

    #[test]
    fn constraints_drop_by_their_names_and_unknown_ones_are_42704() {
        let planned =
            |sql: &str| plan_with_schema(&plan(sql).unwrap()[0], &Perm, &SessionContext::default());
        assert_eq!(
            planned("ALTER TABLE perm DROP CONSTRAINT nope")
                .unwrap_err()
                .sqlstate,
            "42704"
        );
        assert!(planned("ALTER TABLE perm DROP CONSTRAINT IF EXISTS nope").is_ok());
        assert_eq!(
            planned("ALTER TABLE perm ALTER COLUMN nope SET NOT NULL")
                .unwrap_err()
                .sqlstate,
            "42703"
        );
    }
}
