//! UPDATE ... FROM and DELETE ... USING: writes joined to other tables, and the written
//! table's alias. SQLite's UPDATE takes FROM as Postgres does; its DELETE takes no other
//! tables, so the join moves into `WHERE EXISTS (SELECT 1 FROM u WHERE ...)`, which deletes
//! the same rows (those some joined row matches). SQLite takes the written table's alias
//! only after `AS` (Postgres' `UPDATE t a` is written `UPDATE t AS a`), and its RETURNING
//! knows the written table by no alias: columns the alias qualifies are named bare there.
//! SQLite's RETURNING can name only the written table, so RETURNING the joined tables'
//! columns is refused (0A000) rather than failing otherwise.

use sqlparser::ast::{
    Delete, Expr, FromTable, Insert, SelectItem, SelectItemQualifiedWildcardKind, Statement,
    TableFactor, TableWithJoins, Update, visit_expressions, visit_expressions_mut,
};

use super::super::sql::parse_query;
use crate::RouterError;

/// Rewrites a DELETE ... USING in place, the written table's alias with `AS`; refuses
/// RETURNING of joined tables.
pub(super) fn rewrite(ast: &mut Statement) -> Result<(), RouterError> {
    match ast {
        Statement::Insert(Insert {
            table_alias: Some(alias),
            returning,
            ..
        }) => {
            alias.explicit = true;
            if let Some(returning) = returning {
                unqualify_returning(std::slice::from_ref(&alias.alias.value), returning);
            }
            Ok(())
        }
        Statement::Update(Update {
            table,
            from,
            returning,
            ..
        }) => {
            alias_with_as(std::slice::from_mut(table));
            let Some(returning) = returning else {
                return Ok(());
            };
            if from.is_some() {
                refuse_joined_returning(std::slice::from_ref(table), returning, "UPDATE ... FROM")?;
            }
            unqualify_aliased_returning(std::slice::from_ref(table), returning);
            Ok(())
        }
        Statement::Delete(Delete {
            from: FromTable::WithFromKeyword(targets) | FromTable::WithoutKeyword(targets),
            using,
            selection,
            returning,
            ..
        }) => {
            alias_with_as(targets);
            if let Some(returning) = returning {
                if using.is_some() {
                    refuse_joined_returning(targets, returning, "DELETE ... USING")?;
                }
                unqualify_aliased_returning(targets, returning);
            }
            let Some(tables) = using.take() else {
                return Ok(());
            };
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

/// SQLite reads the written table's alias only after `AS`.
fn alias_with_as(targets: &mut [TableWithJoins]) {
    for target in targets {
        if let TableFactor::Table { alias: Some(a), .. } = &mut target.relation {
            a.explicit = true;
        }
    }
}

/// SQLite's RETURNING knows the written table by its name only, not by its alias; a
/// column the alias qualifies is the written table's, so it is named unqualified.
fn unqualify_aliased_returning(targets: &[TableWithJoins], returning: &mut [SelectItem]) {
    let aliases: Vec<String> = targets
        .iter()
        .filter_map(|t| match &t.relation {
            TableFactor::Table { alias: Some(a), .. } => Some(a.name.value.clone()),
            _ => None,
        })
        .collect();
    unqualify_returning(&aliases, returning);
}

/// Names bare the RETURNING columns (and `alias.*`) that one of `aliases` qualifies.
fn unqualify_returning(aliases: &[String], returning: &mut [SelectItem]) {
    if aliases.is_empty() {
        return;
    }
    for item in returning.iter_mut() {
        match item {
            SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(n), o)
                if n.0.len() == 1
                    && n.0[0]
                        .as_ident()
                        .is_some_and(|i| aliases.contains(&i.value)) =>
            {
                *item = SelectItem::Wildcard(o.clone());
            }
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                let _ = visit_expressions_mut(e, |inner| {
                    if let Expr::CompoundIdentifier(parts) = inner
                        && let [qualifier, column] = parts.as_slice()
                        && aliases.contains(&qualifier.value)
                    {
                        *inner = Expr::Identifier(column.clone());
                    }
                    std::ops::ControlFlow::<()>::Continue(())
                });
            }
            _ => {}
        }
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
        assert_eq!(
            sql("delete from t as a using u where u.id = a.id returning a.id, a.*"),
            "DELETE FROM t AS a WHERE EXISTS (SELECT 1 FROM u WHERE u.id = a.id) RETURNING id, *"
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
