//! litescale's own tables (`_litescale_commits`, `_litescale_fence`) are out of a
//! client's reach: a statement naming one, or renaming a table to one, is refused (42501).

use sqlparser::ast::Statement;

use crate::RouterError;
use crate::infer::schema::{last_part, tables};

/// Tables litescale keeps in every database for itself (`_litescale_commits`).
const INTERNAL_TABLE_PREFIX: &str = "_litescale";

/// Whether a table name is one of litescale's own: SQLite's names are case-insensitive,
/// so `"_LITESCALE_FENCE"` names `_litescale_fence`.
fn is_internal_table(name: &str) -> bool {
    name.get(..INTERNAL_TABLE_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(INTERNAL_TABLE_PREFIX))
}

/// The new name of `ALTER TABLE ... RENAME TO`, which names no relation of its own.
fn renamed_to(ast: &Statement) -> Option<String> {
    use sqlparser::ast::{AlterTableOperation, RenameTableNameKind};
    let Statement::AlterTable(alter) = ast else {
        return None;
    };
    alter.operations.iter().find_map(|op| match op {
        AlterTableOperation::RenameTable {
            table_name: RenameTableNameKind::As(new) | RenameTableNameKind::To(new),
        } => Some(last_part(new)),
        _ => None,
    })
}

/// 42501 for a statement that names one of litescale's tables.
pub(crate) fn refuse(ast: &Statement) -> Result<(), RouterError> {
    match tables(ast)
        .into_iter()
        .chain(renamed_to(ast))
        .find(|t| is_internal_table(t))
    {
        Some(internal) => Err(RouterError::forbidden(&format!(
            "\"{internal}\" belongs to litescale"
        ))),
        None => Ok(()),
    }
}
