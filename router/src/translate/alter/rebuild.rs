//! The table made again the way SQLite documents: a new table with the changed definition,
//! the rows copied into it, the old one dropped, its indexes and triggers made again. The
//! old table is renamed aside with `legacy_alter_table` on, so views and triggers elsewhere
//! keep naming the table, not its copy. Other tables' foreign keys would follow it (SQLite
//! does while foreign keys are on), so a table they reference is refused first.

use sqlparser::ast::{Ident, ObjectName, Statement};

use super::changes::Changed;
use crate::infer::schema::{TableDefinition, last_part};
use crate::translate::sql::fail_if_referenced;

/// The statements that make `table` again as `changed` describes it.
pub(super) fn statements(
    table: &ObjectName,
    changed: Changed,
    definition: &TableDefinition,
) -> Vec<String> {
    let name = last_part(table);
    let Changed {
        create,
        columns,
        dropped_indexes,
    } = changed;
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
        // The rows keep their identities' numbers.
        format!(
            "INSERT INTO {table} ({}) SELECT {} FROM {aside}{}",
            targets.join(", "),
            sources.join(", "),
            crate::translate::columns::OVERRIDING_MARK
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
    out
}

/// A statement that fails while another table's foreign key references `table`: setting
/// the table aside would take such references with it (SQLite follows a renamed parent
/// while foreign keys are on, and they cannot be turned off inside a transaction), and
/// dropping it would then fire their ON DELETE actions.
fn refuse_if_referenced(table: &str) -> String {
    fail_if_referenced(
        table,
        &[table.to_owned()],
        "0A000",
        &format!(
            "ALTER TABLE {table} that changes how its rows are stored (a column's type, a \
             key) while foreign keys of other tables reference it is not supported by litescale"
        ),
    )
}
