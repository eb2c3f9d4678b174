//! UPDATE ... FROM and DELETE ... USING: writes joined to other tables. SQLite's UPDATE
//! takes FROM as Postgres does; its DELETE takes no other tables, so the join moves into
//! `WHERE EXISTS (SELECT 1 FROM u WHERE ...)`, which deletes the same rows (those some
//! joined row matches). SQLite's RETURNING can name only the written table, so RETURNING
//! the joined tables' columns is refused (0A000) rather than failing otherwise.

use sqlparser::ast::{
    Delete, Expr, FromTable, SelectItem, SelectItemQualifiedWildcardKind, Statement, TableFactor,
    TableWithJoins, Update, visit_expressions,
};

use super::super::sql::parse_query;
use crate::RouterError;

/// Rewrites a DELETE ... USING in place; refuses RETURNING of joined tables.
pub(super) fn rewrite(ast: &mut Statement) -> Result<(), RouterError> {
    match ast {
        Statement::Update(Update {
            table,
            from: Some(_),
            returning: Some(returning),
            ..
        }) => refuse_joined_returning(std::slice::from_ref(table), returning, "UPDATE ... FROM"),
        Statement::Delete(Delete {
            from: FromTable::WithFromKeyword(targets) | FromTable::WithoutKeyword(targets),
            using,
            selection,
            returning,
            ..
        }) => {
            let Some(tables) = using.take() else {
                return Ok(());
            };
            if let Some(returning) = returning {
                refuse_joined_returning(targets, returning, "DELETE ... USING")?;
            }
            let mut exists =
                parse_query("SELECT 1").ok_or_else(|| RouterError::unsupported("USING"))?;
            if let sqlparser::ast::SetExpr::Select(select) = exists.body.as_mut() {
                select.from = tables;
                select.selection = selection.take();
            }
            *selection = Some(Expr::Exists {
                subquery: exists,
                negated: false,
            });
            Ok(())
        }
        _ => Ok(()),
    }
}

/// 0A000 when RETURNING qualifies a column (or `*`) by a name other than the written
/// table's name or alias.
fn refuse_joined_returning(
    targets: &[TableWithJoins],
    returning: &[SelectItem],
    construct: &str,
) -> Result<(), RouterError> {
    let names: Vec<String> = targets
        .iter()
        .filter_map(|t| match &t.relation {
            TableFactor::Table { name, alias, .. } => Some(match alias {
                Some(a) => a.name.value.clone(),
                None => name.0.last()?.as_ident()?.value.clone(),
            }),
            _ => None,
        })
        .collect();
    let foreign = |qualifier: Option<&sqlparser::ast::Ident>| {
        qualifier.is_some_and(|q| !names.contains(&q.value))
    };
    let joined = returning.iter().any(|item| match item {
        SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(n), _) => {
            foreign(n.0.last().and_then(|p| p.as_ident()))
        }
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
            visit_expressions(e, |inner| match inner {
                Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                    if foreign(parts.get(parts.len() - 2)) {
                        std::ops::ControlFlow::Break(())
                    } else {
                        std::ops::ControlFlow::Continue(())
                    }
                }
                _ => std::ops::ControlFlow::Continue(()),
            })
            .is_break()
        }
        _ => false,
    });
    if joined {
        return Err(RouterError::unsupported(&format!(
            "RETURNING columns of the joined tables of {construct}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::test_support::sql;

    #[test]
    fn delete_using_becomes_exists() {
        assert_eq!(
            sql("delete from t using u, v as w where u.id = t.id and w.x = u.x returning t.id"),
            "DELETE FROM t WHERE EXISTS (SELECT 1 FROM u, v AS w WHERE u.id = t.id AND w.x = u.x) RETURNING t.id"
        );
        assert_eq!(
            sql("delete from t as a using u"),
            "DELETE FROM t AS a WHERE EXISTS (SELECT 1 FROM u)"
        );
    }

    #[test]
    fn returning_a_joined_table_is_refused() {
        for text in [
            "delete from t using u where u.id = t.id returning u.x",
            "delete from t as a using u where u.id = a.id returning u.*",
            "update t set x = u.x from u where u.id = t.id returning u.x",
        ] {
            assert_eq!(crate::plan(text).unwrap_err().sqlstate, "0A000", "{text}");
        }
        assert!(
            sql("update t set x = u.x from u where u.id = t.id returning t.x, x")
                .contains("RETURNING t.x, x")
        );
    }
}
