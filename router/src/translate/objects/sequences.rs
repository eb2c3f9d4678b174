//! Sequences: CREATE / ALTER / DROP SEQUENCE, and the sequences SERIAL and IDENTITY columns
//! own, as calls of the shard's sequence functions (shard engine/sequences.rs), which keep
//! each sequence as a table of its own. The clauses travel as a JSON object; the shard
//! fills in Postgres' defaults and checks them.

use sqlparser::ast::{
    DataType, Expr, GeneratedAs, ObjectName, SequenceOptions, Statement, UnaryOperator, Value,
};

use crate::RouterError;
use crate::infer::schema::last_part;
use crate::parse::lexical::is_built_in_schema;
use crate::parse::lexical::string_literal;

/// The name Postgres gives the sequence of a SERIAL or IDENTITY column.
pub(in crate::translate) fn serial_sequence_name(table: &str, column: &str) -> String {
    format!("{table}_{column}_seq")
}

/// `nextval('<sequence>')`, the DEFAULT of a column that numbers its rows. An identity column's calls `nextval('<sequence>', 'a' | 'd')`
/// (GENERATED ALWAYS | BY DEFAULT), which the shard's catalog shows as the identity, with
/// no default.
pub(in crate::translate) fn next_value(sequence: &str, identity: Option<&GeneratedAs>) -> Expr {
    let mut arguments = vec![crate::translate::sql::string(&shown_name(sequence))];
    if let Some(identity) = identity {
        let kind = match identity {
            GeneratedAs::Always => "a",
            _ => "d",
        };
        arguments.push(crate::translate::sql::string(kind));
    }
    crate::translate::sql::call("nextval", arguments)
}

/// The CHECK that keeps a GENERATED ALWAYS identity `column` to the numbers its
/// `sequence` hands out (shard engine/objects/identity.rs), named as litescale's own.
pub(in crate::translate) fn identity_check(
    sequence: &str,
    column: &str,
) -> sqlparser::ast::ColumnOptionDef {
    use crate::translate::sql::{call, string};
    sqlparser::ast::ColumnOptionDef {
        name: Some(sqlparser::ast::Ident::with_quote('"', "litescale_identity")),
        option: sqlparser::ast::ColumnOption::Check(sqlparser::ast::CheckConstraint {
            name: None,
            expr: Box::new(call(
                "pg_identity_given",
                vec![
                    Expr::Identifier(sqlparser::ast::Ident::with_quote('"', column)),
                    string(&shown_name(sequence)),
                    string(column),
                ],
            )),
            no_inherit: false,
            enforced: None,
        }),
    }
}

/// A sequence's name as nextval's argument: one of a schema other than public
/// (`"s.t_id_seq"`, translate/objects/schemas.rs) written `s.t_id_seq`, as Postgres shows it.
fn shown_name(sequence: &str) -> String {
    match super::schemas::split_stored(sequence) {
        Some((schema, object)) => format!(
            "{}.{}",
            crate::translate::sql::identifier(&schema),
            crate::translate::sql::identifier(&object)
        ),
        None => crate::translate::sql::identifier(sequence).to_string(),
    }
}

/// `SELECT litescale_create_sequence(...)` for CREATE SEQUENCE.
pub(in crate::translate) fn create(
    name: &ObjectName,
    options: &[SequenceOptions],
    if_not_exists: bool,
) -> Result<String, RouterError> {
    Ok(format!(
        "SELECT litescale_create_sequence({}, {}, {if_not_exists})",
        string_literal(&last_part(name)),
        string_literal(&options_json(options, None)?.to_string())
    ))
}

/// The sequence of a SERIAL or IDENTITY column `column` of `table`, of the column's type,
/// with an identity's own clauses.
pub(in crate::translate) fn create_owned(
    table: &str,
    column: &str,
    data_type: &str,
    options: &[SequenceOptions],
    if_not_exists: bool,
) -> Result<String, RouterError> {
    let mut json = options_json(options, None)?;
    json["type"] = data_type.into();
    json["owned_by"] = serde_json::json!([table, column]);
    Ok(format!(
        "SELECT litescale_create_sequence({}, {}, {if_not_exists})",
        string_literal(&serial_sequence_name(table, column)),
        string_literal(&json.to_string())
    ))
}

/// `SELECT litescale_alter_sequence(...)`: ALTER SEQUENCE's clauses, with RESTART
/// (`Some(None)`: at the start; `Some(Some(n))`: at n).
pub(crate) fn alter(
    name: &str,
    options: &[SequenceOptions],
    restart: Option<Option<i64>>,
    if_exists: bool,
) -> Result<String, RouterError> {
    Ok(format!(
        "SELECT litescale_alter_sequence({}, {}, {if_exists})",
        string_literal(name),
        string_literal(&options_json(options, restart)?.to_string())
    ))
}

/// DROP SEQUENCE, one call per sequence.
pub(in crate::translate) fn drop(
    names: &[ObjectName],
    if_exists: bool,
    cascade: bool,
) -> Vec<String> {
    names
        .iter()
        .map(|n| {
            format!(
                "SELECT litescale_drop_sequence({}, {if_exists}, {cascade})",
                string_literal(&n.to_string())
            )
        })
        .collect()
}

/// The sequences a dropped table's columns owned go with it.
fn drop_owned(table: &str, column: Option<&str>) -> String {
    match column {
        Some(column) => format!(
            "SELECT litescale_drop_owned_sequences({}, {})",
            string_literal(table),
            string_literal(column)
        ),
        None => format!(
            "SELECT litescale_drop_owned_sequences({})",
            string_literal(table)
        ),
    }
}

/// A renamed table or column still owns its sequences.
fn rename_owner(table: &str, column: Option<&str>, new: &str) -> String {
    match column {
        Some(column) => format!(
            "SELECT litescale_rename_sequence_owner({}, {}, {})",
            string_literal(table),
            string_literal(column),
            string_literal(new)
        ),
        None => format!(
            "SELECT litescale_rename_sequence_owner({}, {})",
            string_literal(table),
            string_literal(new)
        ),
    }
}

/// What a DROP TABLE or ALTER TABLE does to the sequences the table's columns own, after
/// it: they go with their table or column, and follow a rename.
pub(in crate::translate) fn owners_changed(ast: &Statement) -> Vec<String> {
    use sqlparser::ast::{AlterTableOperation as Op, ObjectType, RenameTableNameKind};
    match ast {
        Statement::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        } => names
            .iter()
            .map(|n| drop_owned(&last_part(n), None))
            .collect(),
        Statement::AlterTable(alter) => {
            let mut table = last_part(&alter.name);
            let mut out = Vec::new();
            for op in &alter.operations {
                match op {
                    Op::RenameTable {
                        table_name: RenameTableNameKind::To(new) | RenameTableNameKind::As(new),
                    } => {
                        let new = last_part(new);
                        out.push(rename_owner(&table, None, &new));
                        table = new;
                    }
                    Op::RenameColumn {
                        old_column_name,
                        new_column_name,
                    } => out.push(rename_owner(
                        &table,
                        Some(&old_column_name.value),
                        &new_column_name.value,
                    )),
                    Op::DropColumn { column_names, .. } => out.extend(
                        column_names
                            .iter()
                            .map(|c| drop_owned(&table, Some(&c.value))),
                    ),
                    _ => {}
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

/// The sequence type a SQL type names (22023 for any but the three integers).
pub(in crate::translate) fn sequence_type(
    data_type: &DataType,
) -> Result<&'static str, RouterError> {
    Ok(match data_type {
        DataType::SmallInt(_) | DataType::Int2(_) => "smallint",
        DataType::Int(_) | DataType::Integer(_) | DataType::Int4(_) => "integer",
        DataType::BigInt(_) | DataType::Int8(_) => "bigint",
        _ => {
            return Err(RouterError {
                sqlstate: "22023",
                message: "sequence type must be smallint, integer, or bigint".to_owned(),
            });
        }
    })
}

fn options_json(
    options: &[SequenceOptions],
    restart: Option<Option<i64>>,
) -> Result<serde_json::Value, RouterError> {
    let mut json = serde_json::Map::new();
    let mut put = |key: &str, value: serde_json::Value| json.insert(key.to_owned(), value);
    for option in options {
        match option {
            SequenceOptions::DataType(t) => put("type", sequence_type(t)?.into()),
            SequenceOptions::IncrementBy(e, _) => put("increment", integer(e)?.into()),
            SequenceOptions::MinValue(e) => put("min", e.as_ref().map(integer).transpose()?.into()),
            SequenceOptions::MaxValue(e) => put("max", e.as_ref().map(integer).transpose()?.into()),
            SequenceOptions::StartWith(e, _) => put("start", integer(e)?.into()),
            SequenceOptions::Cache(e) => put("cache", integer(e)?.into()),
            SequenceOptions::Cycle(no) => put("cycle", (!no).into()),
            SequenceOptions::OwnedBy(None) => put("owned_by", serde_json::Value::Null),
            SequenceOptions::OwnedBy(Some(column)) => {
                let unquoted = |s: &str| s.trim_matches('"').to_owned();
                let parts: Vec<String> =
                    column.0.iter().map(|p| unquoted(&p.to_string())).collect();
                let (table, column) = match parts.as_slice() {
                    // `s.t.c`: the table is SQLite's `s.t` (schemas.rs).
                    [schema, table, column] if !is_built_in_schema(schema) => {
                        (format!("{schema}.{table}"), column)
                    }
                    [.., table, column] => (table.clone(), column),
                    _ => {
                        return Err(RouterError::syntax(
                            "OWNED BY takes a table's column (t.c) or NONE".to_owned(),
                        ));
                    }
                };
                put("owned_by", serde_json::json!([table, column]))
            }
        };
    }
    match restart {
        Some(Some(n)) => put("restart", n.into()),
        Some(None) => put("restart", true.into()),
        None => None,
    };
    Ok(serde_json::Value::Object(json))
}

/// A clause's number: an integer literal, possibly negative.
fn integer(e: &Expr) -> Result<i64, RouterError> {
    let parsed = match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse().ok(),
            _ => None,
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => integer(expr).ok().and_then(i64::checked_neg),
        Expr::UnaryOp {
            op: UnaryOperator::Plus,
            expr,
        } => integer(expr).ok(),
        _ => None,
    };
    parsed.ok_or_else(|| RouterError {
        sqlstate: "22023",
        message: format!("sequence parameter {e} is not an integer"),
    })
}

#[cfg(test)]
mod tests {
    use crate::plan;
    use crate::test_support::sql;

    #[test]
    fn sequence_statements_call_the_shard() {
        assert_eq!(
            sql(
                "create sequence if not exists s as integer increment by -2 minvalue -10 no maxvalue start with -3 cache 5 no cycle owned by t.id"
            ),
            "SELECT litescale_create_sequence('s', '{\"cache\":5,\"cycle\":false,\"increment\":-2,\"max\":null,\"min\":-10,\"owned_by\":[\"t\",\"id\"],\"start\":-3,\"type\":\"integer\"}', true)"
        );
        assert_eq!(
            sql("drop sequence if exists a, b cascade"),
            "SELECT litescale_drop_sequence('a', true, true);\nSELECT litescale_drop_sequence('b', true, true)"
        );
        let e = plan("create sequence s as text").unwrap_err();
        assert_eq!(e.sqlstate, "22023");
        assert!(e.message.contains("smallint, integer, or bigint"));
    }
}
