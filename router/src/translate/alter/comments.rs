//! COMMENT ON TABLE | COLUMN, kept in the table's own definition as a CHECK that always
//! holds, named `litescale_comment`: `CHECK ('the text' IS NOT NULL)`, among the table's
//! constraints or on its column. SQLite keeps it through renames and drops it with its
//! column, in the same transaction as any other schema change; the definition is written
//! over in place (`in_place`), and the shard's obj_description and col_description read it
//! back (engine/sql/catalog/definitions.rs).

use sqlparser::ast::{
    CheckConstraint, ColumnOption, ColumnOptionDef, CreateTable, Expr, Ident, TableConstraint,
    Value,
};

use super::{in_place, parse_create};
use crate::RouterError;
use crate::infer::schema::TableDefinition;
use crate::translate::sql::render_strings_as_written;

/// The name of the CHECK that holds a comment.
const COMMENT: &str = "litescale_comment";

/// The statements that set (`Some`) or remove (`None`) the comment on `table`, or on its
/// `column`.
pub(in crate::translate) fn comment(
    table: &str,
    column: Option<&str>,
    text: Option<&str>,
    definition: &TableDefinition,
) -> Result<Vec<String>, RouterError> {
    let mut create: CreateTable = parse_create(&definition.create)?;
    let is_comment = |name: &Option<Ident>| name.as_ref().is_some_and(|n| n.value == COMMENT);
    let name = Some(Ident::with_quote('"', COMMENT));
    match column {
        None => {
            create
                .constraints
                .retain(|c| !matches!(c, TableConstraint::Check(k) if is_comment(&k.name)));
            if let Some(text) = text {
                create
                    .constraints
                    .push(TableConstraint::Check(holding(text, name)));
            }
        }
        Some(column) => {
            let def = create
                .columns
                .iter_mut()
                .find(|c| c.name.value.eq_ignore_ascii_case(column))
                .ok_or_else(|| RouterError {
                    sqlstate: "42703",
                    message: format!("column \"{column}\" of relation \"{table}\" does not exist"),
                })?;
            def.options
                .retain(|o| !(matches!(o.option, ColumnOption::Check(_)) && is_comment(&o.name)));
            if let Some(text) = text {
                def.options.push(ColumnOptionDef {
                    name,
                    option: ColumnOption::Check(holding(text, None)),
                });
            }
        }
    }
    Ok(vec![in_place::definition_written(table, &create)])
}

/// `CHECK ('text' IS NOT NULL)`, which every row passes.
fn holding(text: &str, name: Option<Ident>) -> CheckConstraint {
    let mut expr = Expr::IsNotNull(Box::new(Expr::value(Value::SingleQuotedString(
        text.to_owned(),
    ))));
    render_strings_as_written(&mut expr);
    CheckConstraint {
        name,
        expr: Box::new(expr),
        no_inherit: false,
        enforced: None,
    }
}
