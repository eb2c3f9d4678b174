//! A table's CREATE TABLE with ALTER TABLE's operations applied: columns altered, added,
//! dropped or renamed; constraints added, or dropped by their names (Postgres' default names
//! too). Each column carries what fills it from the old rows, for a rebuild.

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation as Op, ColumnDef, ColumnOption, CreateTable, Expr,
    Ident, TableConstraint,
};

use crate::RouterError;
use crate::infer::schema::TableDefinition;
use crate::parse::lexical::leading_words;
use crate::translate::columns;

/// A column of the new table and what fills it from the old one (`None`: its default).
pub(super) struct NewColumn {
    pub(super) def: ColumnDef,
    pub(super) source: Option<Expr>,
}

/// The table as the operations leave it.
pub(super) struct Changed {
    /// The new CREATE TABLE, its columns included.
    pub(super) create: CreateTable,
    pub(super) columns: Vec<NewColumn>,
    /// The indexes of UNIQUE constraints the operations dropped.
    pub(super) dropped_indexes: Vec<String>,
}

/// `before` with `ops` applied.
pub(super) fn apply_all(
    table: &str,
    before: &CreateTable,
    ops: &[Op],
    definition: &TableDefinition,
) -> Result<Changed, RouterError> {
    let mut create = before.clone();
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
            table,
            &mut create,
            &mut columns,
            definition,
            &mut dropped_indexes,
        )?;
    }
    create.columns = columns.iter().map(|c| c.def.clone()).collect();
    columns::parenthesize_defaults(&mut create);
    Ok(Changed {
        create,
        columns,
        dropped_indexes,
    })
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
                def.options.push(columns::option(ColumnOption::NotNull));
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
                .push(columns::option(ColumnOption::Default(value.clone())));
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

pub(super) fn in_primary_key(def: &ColumnDef, create: &CreateTable) -> bool {
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

/// A table constraint's name: its own, or the one Postgres gives it.
pub(super) fn name_of(table: &str, constraint: &TableConstraint) -> Option<String> {
    constraint_name(constraint)
        .map(|n| n.value.clone())
        .or_else(|| default_name(table, constraint))
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
    create
        .constraints
        .retain(|c| name_of(table, c).as_deref() != Some(wanted));
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
