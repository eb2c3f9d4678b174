//! The changed definition written over the old one, for operations that leave every stored
//! row as it is: NOT NULL or a DEFAULT set or dropped, a CHECK or foreign key added or
//! dropped, a column's type changed within its storage (one text type for another, an
//! integer widened; a USING cast to varchar(n) cuts longer values first). The rows are first checked against what is new, with Postgres'
//! errors; the engine then writes the text (shard engine/table_definition.rs). Other
//! tables' foreign keys, views and triggers keep pointing at the table, so a table they
//! reference changes too, as Django's migrations of auth_user need.

use sqlparser::ast::{
    AlterColumnOperation as A, AlterTableOperation as Op, CharacterLength, ColumnOption,
    CreateTable, DataType, Expr, Ident, ObjectName, Statement, TableConstraint,
};

use super::super::sql::{args, function_name};
use super::changes::{Changed, name_of};
use crate::infer::schema::last_part;
use crate::parse::lexical::string_literal;
use crate::types::{PgType, from_data_type};

/// Whether `ops` leave every stored row and key as it is.
pub(super) fn applies(ops: &[Op], before: &CreateTable, changed: &Changed) -> bool {
    ops.iter().all(|op| keeps_stored_rows(op, before)) && keys(before) == keys(&changed.create)
}

/// The checks of the rows against what `ops` add, and the definition written over.
pub(super) fn statements(table: &ObjectName, ops: &[Op], changed: &Changed) -> Vec<String> {
    let name = last_part(table);
    let mut out: Vec<String> = ops
        .iter()
        .filter_map(|op| rows_cut(op, &name).or_else(|| values_stored(op, &name)))
        .collect();
    out.extend(
        ops.iter()
            .filter_map(|op| rows_check(op, table, &name, changed)),
    );
    out.push(definition_written(&name, &changed.create));
    out.extend(
        changed
            .dropped_indexes
            .iter()
            .map(|index| format!("DROP INDEX {}", Ident::with_quote('"', index))),
    );
    // SQLite checks a foreign key against the schema it is in: after the definition.
    out.extend(ops.iter().filter_map(|op| match op {
        Op::AddConstraint {
            constraint: constraint @ TableConstraint::ForeignKey(fk),
            not_valid: false,
        } => Some(format!(
            "SELECT pg_raise('23503', {}) FROM pragma_foreign_key_check({}) \
             WHERE \"parent\" = {} COLLATE NOCASE LIMIT 1",
            string_literal(&format!(
                "insert or update on table \"{name}\" violates foreign key constraint \"{}\"",
                constraint_name(&name, constraint)
            )),
            string_literal(&name),
            string_literal(&last_part(&fk.foreign_table)),
        )),
        _ => None,
    }));
    out
}

/// The statement that has the engine write `create` over `table`'s definition.
pub(super) fn definition_written(table: &str, create: &CreateTable) -> String {
    format!(
        "SELECT litescale_set_table_definition({}, {})",
        string_literal(table),
        string_literal(&Statement::CreateTable(create.clone()).to_string())
    )
}

fn keeps_stored_rows(op: &Op, before: &CreateTable) -> bool {
    match op {
        Op::AlterColumn { column_name, op } => match op {
            A::SetNotNull | A::DropNotNull | A::SetDefault { .. } | A::DropDefault => true,
            A::SetDataType {
                data_type, using, ..
            } => before
                .columns
                .iter()
                .find(|c| c.name.value.eq_ignore_ascii_case(&column_name.value))
                .is_some_and(|c| {
                    same_storage(&c.data_type, data_type)
                        && using.as_ref().is_none_or(|u| {
                            is_the_column(u, column_name, data_type)
                                || cut_length(u, column_name).is_some()
                        })
                }),
            _ => false,
        },
        Op::AddConstraint { constraint, .. } => matches!(
            constraint,
            TableConstraint::Check(_) | TableConstraint::ForeignKey(_)
        ),
        Op::DropConstraint { .. } => true,
        _ => false,
    }
}

/// Whether values stored for `old` are stored alike for `new` and hold as `new` without
/// a conversion: text types among themselves, integers widened.
fn same_storage(old: &DataType, new: &DataType) -> bool {
    use PgType::{Int2, Int4, Int8, Text, Varchar};
    let width = |t: &PgType| match t {
        Int2 => 2,
        Int4 => 4,
        _ => 8,
    };
    old == new
        || match (from_data_type(old), from_data_type(new)) {
            (Some(Text | Varchar), Some(Text | Varchar)) => true,
            (Some(a @ (Int2 | Int4 | Int8)), Some(b @ (Int2 | Int4 | Int8))) => {
                width(&a) <= width(&b)
            }
            _ => false,
        }
}

/// The n of a USING expression that is the column's cast to varchar(n) (as written, or as
/// the casts pass writes it: `substr(c, 1, n)`), which cuts longer text short: made in
/// place by cutting the rows that are longer first (knex writes `USING ("c"::varchar(n))`).
fn cut_length(using: &Expr, column: &Ident) -> Option<u64> {
    let number = |e: &Expr| e.to_string().parse::<u64>().ok();
    match using {
        Expr::Nested(inner) => cut_length(inner, column),
        Expr::Cast {
            expr,
            data_type:
                DataType::Varchar(Some(CharacterLength::IntegerLength { length, .. }))
                | DataType::CharacterVarying(Some(CharacterLength::IntegerLength { length, .. })),
            ..
        } if is_the_column(expr, column, &DataType::Text) => Some(*length),
        Expr::Function(f) if function_name(f).as_deref() == Some("substr") => {
            match args(f).as_slice() {
                [text, from, length] if number(from) == Some(1) => {
                    let text = match text {
                        Expr::Cast { expr, .. } => expr,
                        other => other,
                    };
                    is_the_column(text, column, &DataType::Text)
                        .then(|| number(length))
                        .flatten()
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// `UPDATE` cutting the column's longer values short, for a type change whose USING cuts
/// them (see [`cut_length`]).
fn rows_cut(op: &Op, table: &str) -> Option<String> {
    let Op::AlterColumn {
        column_name,
        op: A::SetDataType {
            using: Some(using), ..
        },
    } = op
    else {
        return None;
    };
    let n = cut_length(using, column_name)?;
    let column = Ident::with_quote('"', &column_name.value);
    Some(format!(
        "UPDATE {} SET {column} = substr({column}, 1, {n}) WHERE length({column}) > {n}",
        Ident::with_quote('"', table)
    ))
}

/// `UPDATE` writing into each row the value it reads now, before its column's DEFAULT is
/// set or dropped: a row stored before `ADD COLUMN ... DEFAULT` holds no value of that
/// column, and SQLite reads the schema's DEFAULT for it, so a changed DEFAULT would change
/// (a dropped one would NULL) values the rows already have.
fn values_stored(op: &Op, table: &str) -> Option<String> {
    let Op::AlterColumn {
        column_name,
        op: A::SetDefault { .. } | A::DropDefault,
    } = op
    else {
        return None;
    };
    let column = Ident::with_quote('"', &column_name.value);
    Some(format!(
        "UPDATE {} SET {column} = {column} WHERE {column} IS NOT NULL",
        Ident::with_quote('"', table)
    ))
}

/// Whether a USING expression is the column itself, or its cast to the new type where
/// that converts nothing (an integer widened, text; Django writes `USING "c"::bigint`):
/// another cast would convert (a cast to VARCHAR(n) cuts the text short, where the plain
/// ALTER refuses a longer one).
fn is_the_column(using: &Expr, column: &Ident, new: &DataType) -> bool {
    match using {
        Expr::Identifier(i) => i.value.eq_ignore_ascii_case(&column.value),
        Expr::Nested(e) => is_the_column(e, column, new),
        // `c::text`, as the casts pass writes it.
        Expr::Cast {
            expr, data_type, ..
        } => {
            from_data_type(data_type) == Some(PgType::Text)
                && from_data_type(new) == Some(PgType::Text)
                && is_the_column(expr, column, new)
        }
        // `c::bigint` (`pg_int8(c)`): the type's range check of a value already held.
        Expr::Function(f) => {
            let target = match function_name(f).as_deref() {
                Some("pg_int2") => PgType::Int2,
                Some("pg_int4") => PgType::Int4,
                Some("pg_int8") => PgType::Int8,
                _ => return false,
            };
            from_data_type(new) == Some(target)
                && matches!(args(f).as_slice(), [arg] if is_the_column(arg, column, new))
        }
        _ => false,
    }
}

/// The table's PRIMARY KEY and UNIQUE constraints, which SQLite keeps in indexes of its own.
fn keys(create: &CreateTable) -> Vec<String> {
    let mut keys: Vec<String> = create
        .columns
        .iter()
        .flat_map(|c| {
            c.options
                .iter()
                .filter(|o| {
                    matches!(
                        o.option,
                        ColumnOption::PrimaryKey(_) | ColumnOption::Unique(_)
                    )
                })
                .map(move |o| format!("{} {}", c.name, o.option))
        })
        .collect();
    keys.extend(
        create
            .constraints
            .iter()
            .filter(|c| {
                matches!(
                    c,
                    TableConstraint::PrimaryKey(_) | TableConstraint::Unique(_)
                )
            })
            .map(ToString::to_string),
    );
    keys
}

/// A statement that fails, as Postgres does, when a stored row breaks what `op` adds.
fn rows_check(op: &Op, table: &ObjectName, name: &str, changed: &Changed) -> Option<String> {
    let (sqlstate, message, broken) = match op {
        Op::AlterColumn {
            column_name,
            op: A::SetNotNull,
        } => (
            "23502",
            format!(
                "column \"{}\" of relation \"{name}\" contains null values",
                column_name.value
            ),
            format!("{column_name} IS NULL"),
        ),
        Op::AlterColumn {
            column_name,
            op: A::SetDataType { .. },
        } => {
            let new = changed
                .create
                .columns
                .iter()
                .find(|c| c.name.value.eq_ignore_ascii_case(&column_name.value))?;
            let length = match &new.data_type {
                DataType::Varchar(Some(CharacterLength::IntegerLength { length, .. }))
                | DataType::CharacterVarying(Some(CharacterLength::IntegerLength {
                    length, ..
                })) => *length,
                _ => return None,
            };
            (
                "22001",
                format!("value too long for type character varying({length})"),
                format!("length({column_name}) > {length}"),
            )
        }
        Op::AddConstraint {
            constraint: constraint @ TableConstraint::Check(check),
            not_valid: false,
        } => (
            "23514",
            format!(
                "check constraint \"{}\" of relation \"{name}\" is violated by some row",
                constraint_name(name, constraint)
            ),
            format!("NOT ({})", check.expr),
        ),
        _ => return None,
    };
    Some(format!(
        "SELECT pg_raise('{sqlstate}', {}) FROM {table} WHERE {broken} LIMIT 1",
        string_literal(&message)
    ))
}

fn constraint_name(table: &str, constraint: &TableConstraint) -> String {
    name_of(table, constraint).unwrap_or_default()
}
