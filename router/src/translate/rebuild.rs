//! ALTER TABLE changes SQLite's ALTER TABLE cannot make (ALTER COLUMN, ADD/DROP CONSTRAINT
//! of a foreign key or CHECK), made the way SQLite documents: a new table with the changed
//! definition, the rows copied into it, the old one dropped, its indexes and triggers made
//! again. The old table is renamed aside with `legacy_alter_table` on, so views and
//! triggers elsewhere keep naming the table, not its copy. Other tables' foreign keys would
//! follow it (SQLite does while foreign keys are on), so a table they reference is refused
//! first. It all runs as one batch, in one transaction: a row the new definition refuses
//! (NULL under NOT NULL, a missing parent, a failed CHECK) fails the ALTER with Postgres'
//! SQLSTATE and leaves table and data as they were.

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation as Op, ColumnDef, ColumnOption, CreateTable, Expr,
    Ident, ObjectName, Statement, TableConstraint,
};

use super::columns;
use crate::RouterError;
use crate::infer::schema::{TableDefinition, last_part};
use crate::parse::lexical::leading_words;

/// Whether an ALTER TABLE operation needs the table made again.
pub(super) fn needs_rebuild(op: &Op) -> bool {
    match op {
        Op::AlterColumn { .. } | Op::DropConstraint { .. } => true,
        Op::AddConstraint { constraint, .. } => matches!(
            constraint,
            TableConstraint::ForeignKey(_) | TableConstraint::Check(_)
        ),
        _ => false,
    }
}

/// A column of the new table and what fills it from the old one (`None`: its default).
struct NewColumn {
    def: ColumnDef,
    source: Option<Expr>,
}

/// The statements that make `table` again with `ops` applied to `definition`.
pub(super) fn rebuild(
    table: &ObjectName,
    ops: &[Op],
    definition: &TableDefinition,
) -> Result<Vec<String>, RouterError> {
    let name = last_part(table);
    let mut create = parse_create(&definition.create)?;
    let mut columns: Vec<NewColumn> = create
        .columns
        .drain(..)
        .map(|def| NewColumn {
            source: Some(Expr::Identifier(def.name.clone())),
            def,
        })
        .collect();
    let mut dropped_indexes = Vec::new();
    for op in ops {
        apply(
            op,
            &name,
            &mut create,
            &mut columns,
            definition,
            &mut dropped_indexes,
        )?;
    }
    create.columns = columns.iter().map(|c| c.def.clone()).collect();
    columns::parenthesize_defaults(&mut create);
    let aside = Ident::with_quote('"', format!("{name}__before_alter"));
    let (targets, sources): (Vec<String>, Vec<String>) = columns
        .iter()
        .filter_map(|c| Some((c.def.name.to_string(), c.source.as_ref()?.to_string())))
        .unzip();
    let mut out = vec![
        refuse_if_referenced(&name),
        "PRAGMA legacy_alter_table = ON".to_owned(),
        format!("ALTER TABLE {table} RENAME TO {aside}"),
        Statement::CreateTable(create).to_string(),
        format!(
            "INSERT INTO {table} ({}) SELECT {} FROM {aside}",
            targets.join(", "),
            sources.join(", ")
        ),
        format!("DROP TABLE {aside}"),
    ];
    out.extend(
        definition
            .dependents
            .iter()
            .filter(|(index, _)| !dropped_indexes.contains(index))
            .map(|(_, sql)| sql.clone()),
    );
    out.push("PRAGMA legacy_alter_table = OFF".to_owned());
    Ok(out)
}

/// A statement that fails while another table's foreign key references `table`: setting
/// the table aside would take such references with it (SQLite follows a renamed parent
/// while foreign keys are on, and they cannot be turned off inside a transaction), and
/// dropping it would then fire their ON DELETE actions. It runs in the batch, under the
/// writer, so no reference made meanwhile escapes it.
fn refuse_if_referenced(table: &str) -> String {
    let quoted = table.replace('\'', "''");
    let message = format!(
        "ALTER TABLE {table} ALTER COLUMN / ADD or DROP CONSTRAINT on a table that foreign \
         keys of other tables reference is not supported by litescale"
    )
    .replace('\'', "''");
    format!(
        "SELECT pg_raise('0A000', '{message}') FROM main.sqlite_schema s, \
         pragma_foreign_key_list(s.name) f WHERE s.type = 'table' \
         AND s.name <> '{quoted}' COLLATE NOCASE AND f.\"table\" = '{quoted}' COLLATE NOCASE"
    )
}

/// The columns of a table as its definition declares them.
pub(super) fn column_names(definition: &TableDefinition) -> Result<Vec<String>, RouterError> {
    Ok(parse_create(&definition.create)?
        .columns
        .into_iter()
        .map(|c| c.name.value)
        .collect())
}

fn parse_create(sql: &str) -> Result<CreateTable, RouterError> {
    let statement =
        sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::SQLiteDialect {}, sql)
            .ok()
            .and_then(|mut s| s.pop());
    match statement {
        Some(Statement::CreateTable(create)) => Ok(create),
        _ => Err(RouterError::unsupported(
            "ALTER TABLE of a table whose definition litescale cannot read",
        )),
    }
}

fn apply(
    op: &Op,
    table: &str,
    create: &mut CreateTable,
    columns: &mut Vec<NewColumn>,
    definition: &TableDefinition,
    dropped_indexes: &mut Vec<String>,
) -> Result<(), RouterError> {
    let find = |columns: &mut Vec<NewColumn>, name: &Ident| -> Result<usize, RouterError> {
        columns
            .iter()
            .position(|c| c.def.name.value.eq_ignore_ascii_case(&name.value))
            .ok_or_else(|| RouterError {
                sqlstate: "42703",
                message: format!(
                    "column \"{}\" of relation \"{table}\" does not exist",
                    name.value
                ),
            })
    };
    match op {
        Op::AlterColumn { column_name, op } => {
            let at = find(columns, column_name)?;
            let column = &mut columns[at];
            alter_column(&mut column.def, &mut column.source, op, create, table)?;
        }
        Op::AddConstraint { constraint, .. } => create.constraints.push(constraint.clone()),
        Op::DropConstraint {
            name, if_exists, ..
        } => drop_constraint(
            name,
            *if_exists,
            table,
            create,
            columns,
            definition,
            dropped_indexes,
        )?,
        Op::AddColumn { column_def, .. } => {
            let mut def = column_def.clone();
            columns::add_type_rules(&mut def);
            columns.push(NewColumn { def, source: None });
        }
        Op::DropColumn { column_names, .. } => {
            for name in column_names {
                let at = find(columns, name)?;
                columns.remove(at);
            }
        }
        Op::RenameColumn {
            old_column_name,
            new_column_name,
        } => {
            let at = find(columns, old_column_name)?;
            columns[at].def.name = new_column_name.clone();
        }
        other => {
            return Err(RouterError::unsupported(&format!(
                "ALTER TABLE {} with other changes",
                leading_words(&other.to_string(), 2)
            )));
        }
    }
    Ok(())
}

fn alter_column(
    def: &mut ColumnDef,
    source: &mut Option<Expr>,
    op: &AlterColumnOperation,
    create: &CreateTable,
    table: &str,
) -> Result<(), RouterError> {
    use AlterColumnOperation as A;
    match op {
        A::SetNotNull => {
            if !def
                .options
                .iter()
                .any(|o| matches!(o.option, ColumnOption::NotNull))
            {
                def.options
                    .retain(|o| !matches!(o.option, ColumnOption::Null));
                def.options.push(option(ColumnOption::NotNull));
            }
        }
        A::DropNotNull => {
            if in_primary_key(def, create) {
                return Err(RouterError {
                    sqlstate: "42P16",
                    message: format!("column \"{}\" is in a primary key", def.name.value),
                });
            }
            def.options
                .retain(|o| !matches!(o.option, ColumnOption::NotNull));
        }
        A::SetDefault { value } => {
            def.options
                .retain(|o| !matches!(o.option, ColumnOption::Default(_)));
            def.options
                .push(option(ColumnOption::Default(value.clone())));
        }
        A::DropDefault => def
            .options
            .retain(|o| !matches!(o.option, ColumnOption::Default(_))),
        A::SetDataType {
            data_type, using, ..
        } => {
            // The checks that kept the old type's rules go with it.
            def.options.retain(|o| !columns::is_type_rule(o));
            def.data_type = data_type.clone();
            columns::add_type_rules(def);
            if let Some(using) = using {
                *source = Some(using.clone());
            }
        }
        other => {
            return Err(RouterError::unsupported(&format!(
                "ALTER TABLE {table} ALTER COLUMN ... {}",
                leading_words(&other.to_string(), 2)
            )));
        }
    }
    Ok(())
}

fn option(option: ColumnOption) -> sqlparser::ast::ColumnOptionDef {
    sqlparser::ast::ColumnOptionDef { name: None, option }
}

fn in_primary_key(def: &ColumnDef, create: &CreateTable) -> bool {
    def.options
        .iter()
        .any(|o| matches!(o.option, ColumnOption::PrimaryKey(_)))
        || create.constraints.iter().any(|c| match c {
            TableConstraint::PrimaryKey(pk) => pk.columns.iter().any(|c| {
                c.column
                    .expr
                    .to_string()
                    .eq_ignore_ascii_case(&def.name.value)
            }),
            _ => false,
        })
}

/// The name Postgres gives a table constraint written without one.
fn default_name(table: &str, constraint: &TableConstraint) -> Option<String> {
    let joined = |names: Vec<String>| names.join("_");
    let indexed = |columns: &[sqlparser::ast::IndexColumn]| {
        joined(columns.iter().map(|c| c.column.expr.to_string()).collect())
    };
    match constraint {
        TableConstraint::ForeignKey(fk) => Some(format!(
            "{table}_{}_fkey",
            joined(fk.columns.iter().map(|c| c.value.clone()).collect())
        )),
        TableConstraint::Check(_) => Some(format!("{table}_check")),
        TableConstraint::Unique(u) => Some(format!("{table}_{}_key", indexed(&u.columns))),
        TableConstraint::PrimaryKey(_) => Some(format!("{table}_pkey")),
        _ => None,
    }
}

fn constraint_name(constraint: &TableConstraint) -> Option<&Ident> {
    match constraint {
        TableConstraint::ForeignKey(fk) => fk.name.as_ref(),
        TableConstraint::Check(c) => c.name.as_ref(),
        TableConstraint::PrimaryKey(pk) => pk.name.as_ref(),
        TableConstraint::Unique(u) => u.name.as_ref(),
        _ => None,
    }
}

/// DROP CONSTRAINT: a table constraint by its name or Postgres' default name, a column's
/// foreign key or CHECK by its default name (`<table>_<column>_fkey`, `_check`), or a
/// UNIQUE constraint, which litescale keeps as a unique index of that name.
fn drop_constraint(
    name: &Ident,
    if_exists: bool,
    table: &str,
    create: &mut CreateTable,
    columns: &mut [NewColumn],
    definition: &TableDefinition,
    dropped_indexes: &mut Vec<String>,
) -> Result<(), RouterError> {
    let wanted = name.value.as_str();
    let before = create.constraints.len();
    create.constraints.retain(|c| {
        let own = constraint_name(c).map(|n| n.value.clone());
        own.or_else(|| default_name(table, c)).as_deref() != Some(wanted)
    });
    if create.constraints.len() < before {
        return Ok(());
    }
    for column in columns.iter_mut() {
        let column_name = column.def.name.value.clone();
        let count = column.def.options.len();
        column.def.options.retain(|o| {
            let default = match &o.option {
                ColumnOption::ForeignKey(_) => format!("{table}_{column_name}_fkey"),
                ColumnOption::Check(_) if !columns::is_type_rule(o) => {
                    format!("{table}_{column_name}_check")
                }
                ColumnOption::Unique(_) => format!("{table}_{column_name}_key"),
                ColumnOption::PrimaryKey(_) => format!("{table}_pkey"),
                _ => return true,
            };
            o.name
                .as_ref()
                .map(|n| n.value.as_str())
                .unwrap_or(&default)
                != wanted
        });
        if column.def.options.len() < count {
            return Ok(());
        }
    }
    if definition
        .dependents
        .iter()
        .any(|(index, _)| index == wanted)
    {
        dropped_indexes.push(wanted.to_owned());
        return Ok(());
    }
    if if_exists {
        return Ok(());
    }
    Err(RouterError {
        sqlstate: "42704",
        message: format!("constraint \"{wanted}\" of relation \"{table}\" does not exist"),
    })
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
            })
        }
    }

    fn rebuilt(sql: &str) -> String {
        let planned = &plan(sql).unwrap()[0];
        assert!(
            planned.needs_schema && planned.sqlite_sql.is_empty(),
            "{sql}"
        );
        plan_with_schema(planned, &Perm, &SessionContext::default())
            .unwrap()
            .sqlite_sql
    }

    /// The statements between the reference check and the flag's reset.
    fn steps(sql: &str) -> Vec<String> {
        let all: Vec<String> = rebuilt(sql).split(";\n").map(str::to_owned).collect();
        assert!(all[0].starts_with("SELECT pg_raise('0A000'"), "{all:?}");
        assert_eq!(all[1], "PRAGMA legacy_alter_table = ON");
        assert_eq!(all.last().unwrap(), "PRAGMA legacy_alter_table = OFF");
        all[2..all.len() - 1].to_vec()
    }

    #[test]
    fn a_table_is_made_again_with_the_change_and_its_rows_and_indexes() {
        assert_eq!(
            steps(
                "ALTER TABLE perm ADD CONSTRAINT perm_fk FOREIGN KEY (ct_id) REFERENCES ct (id) \
                 DEFERRABLE INITIALLY DEFERRED"
            ),
            [
                "ALTER TABLE perm RENAME TO \"perm__before_alter\"",
                "CREATE TABLE perm (id INTEGER PRIMARY KEY, ct_id INT NOT NULL, code VARCHAR(10) \
                 CONSTRAINT \"litescale_length_varying_10\" CHECK (length(code) <= 10), \
                 CONSTRAINT perm_fk FOREIGN KEY (ct_id) REFERENCES ct(id) DEFERRABLE INITIALLY \
                 DEFERRED)",
                "INSERT INTO perm (id, ct_id, code) SELECT id, ct_id, code FROM \"perm__before_alter\"",
                "DROP TABLE \"perm__before_alter\"",
                "CREATE INDEX perm_code ON perm(code)",
            ]
        );
    }

    #[test]
    fn columns_change_nullability_defaults_and_types() {
        let create = |sql: &str| steps(sql)[1].clone();
        assert_eq!(
            create(
                "ALTER TABLE perm ALTER COLUMN ct_id DROP NOT NULL, ALTER COLUMN code SET DEFAULT 'x'"
            ),
            "CREATE TABLE perm (id INTEGER PRIMARY KEY, ct_id INT, code VARCHAR(10) \
             CONSTRAINT \"litescale_length_varying_10\" CHECK (length(code) <= 10) DEFAULT 'x')"
        );
        // A column the table has is not added again when the table is made again.
        assert_eq!(
            create(
                "ALTER TABLE perm ADD COLUMN IF NOT EXISTS code text, ALTER COLUMN ct_id DROP NOT NULL"
            ),
            "CREATE TABLE perm (id INTEGER PRIMARY KEY, ct_id INT, code VARCHAR(10) \
             CONSTRAINT \"litescale_length_varying_10\" CHECK (length(code) <= 10))"
        );
        // The old type's length check goes; the new type's rules come.
        let changed = steps("ALTER TABLE perm ALTER COLUMN code TYPE int USING length(code)");
        assert_eq!(
            changed[1],
            "CREATE TABLE perm (id INTEGER PRIMARY KEY, ct_id INT NOT NULL, code INT \
             CHECK (pg_typecheck(code, 'INT')))"
        );
        assert_eq!(
            changed[2],
            "INSERT INTO perm (id, ct_id, code) SELECT id, ct_id, length(code) FROM \"perm__before_alter\""
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
        // A CHECK added, then dropped by its name; an index-backed one drops its index.
        let dropped = steps("ALTER TABLE perm DROP CONSTRAINT perm_code");
        assert!(
            !dropped.iter().any(|s| s.starts_with("CREATE INDEX")),
            "{dropped:?}"
        );
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
