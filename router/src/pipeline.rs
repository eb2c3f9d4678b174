//! A query string through the rooms in turn: cut into statements (`parse/`), each
//! parsed, classified and checked (`classify/`), then translated (`translate/`).

use sqlparser::ast::Statement;

use crate::classify::{internal, kind, parameters, signals, temporary};
use crate::parse::{copy, lexical, postgres, split, vacuum::vacuum};
use crate::plan::hint::Hint;
use crate::plan::session::SessionContext;
use crate::plan::signal::BackendPid;
use crate::plan::statement::{PlannedStatement, StatementKind};
use crate::{RouterError, plan_in, translate};

pub(crate) fn plan_pieces(
    sql: &str,
    ctx: &SessionContext,
) -> Result<Vec<PlannedStatement>, RouterError> {
    let mut planned = Vec::new();
    for piece in split::split(sql)? {
        let first = planned.len();
        match piece.keyword().as_deref() {
            Some("COPY") => {
                let (kind, query) = copy::parse(&piece)?;
                let (sqlite_sql, ast) = match query {
                    Some(q) => {
                        let mut inner = plan_in(&q, ctx)?;
                        if inner.len() != 1 || inner[0].kind != StatementKind::Read {
                            return Err(RouterError::syntax(
                                "COPY (query) takes one SELECT".to_owned(),
                            ));
                        }
                        let inner = inner.remove(0);
                        (inner.sqlite_sql, inner.ast)
                    }
                    None => (String::new(), None),
                };
                planned.push(PlannedStatement {
                    kind,
                    sqlite_sql,
                    batch: false,
                    param_count: 0,
                    hint: None,
                    notices: Vec::new(),
                    ast,
                });
            }
            Some("VACUUM") => planned.push(vacuum(&piece)?),
            Some(word @ ("ATTACH" | "DETACH" | "PRAGMA")) => {
                return Err(RouterError::forbidden(&format!(
                    "{word} reaches SQLite files and settings outside your database"
                )));
            }
            _ => {
                let (normalized, notices) = lexical::normalize(&piece)?;
                for ast in postgres::parse(&normalized)? {
                    let mut p = plan_statement(ast, ctx)?;
                    p.notices.clone_from(&notices);
                    planned.push(p);
                }
            }
        }
        let hint = piece.comments.iter().find_map(|c| Hint::from_comment(c));
        for p in &mut planned[first..] {
            p.hint = hint.clone();
            if let StatementKind::Explain(inner) = &mut p.kind {
                inner.hint = hint.clone();
            }
        }
    }
    Ok(planned)
}

fn plan_statement(
    mut ast: Statement,
    ctx: &SessionContext,
) -> Result<PlannedStatement, RouterError> {
    if let Statement::Explain {
        statement, analyze, ..
    } = &ast
    {
        if *analyze {
            return Err(RouterError::unsupported("EXPLAIN ANALYZE"));
        }
        let inner = plan_statement(statement.as_ref().clone(), ctx)?;
        return Ok(PlannedStatement::outside_sqlite(
            StatementKind::Explain(Box::new(inner)),
            0,
        ));
    }
    if let Some(signal) = signals::classify(&ast, ctx) {
        // Runs in the proxy, on another session, not in SQLite.
        let kind = signal?;
        let param_count = match &kind {
            StatementKind::SignalBackend {
                pid: BackendPid::Param(n),
                ..
            } => *n,
            _ => 0,
        };
        return Ok(PlannedStatement::outside_sqlite(kind, param_count));
    }
    let kind = kind::classify(&ast)?;
    temporary::refuse(&ast)?;
    internal::refuse(&ast)?;
    if matches!(
        kind,
        StatementKind::CreateDatabase { .. } | StatementKind::DropDatabase { .. }
    ) {
        // Runs on the storage directory, not in SQLite.
        return Ok(PlannedStatement::outside_sqlite(kind, 0));
    }
    let param_count = parameters::rewrite_placeholders(&mut ast)?;
    let translated = translate::translate(ast.clone(), ctx)?;
    Ok(PlannedStatement {
        kind,
        sqlite_sql: translated.sql,
        batch: translated.batch,
        param_count,
        hint: None,
        notices: Vec::new(),
        ast: Some(ast),
    })
}

#[cfg(test)]
mod tests {
    use crate::plan;
    use crate::test_support::one;

    #[test]
    fn splits_several_statements_and_empty_input() {
        assert_eq!(plan("select 1; select 2;").unwrap().len(), 2);
        assert!(plan("").unwrap().is_empty());
        assert!(plan(" ; ").unwrap().is_empty());
    }

    #[test]
    fn unquoted_identifiers_fold_to_lower_case() {
        assert_eq!(
            one("SELECT ID, \"Name\" FROM Users WHERE X = 'ABC'").sqlite_sql,
            "SELECT id, \"Name\" FROM users WHERE x = 'ABC'"
        );
    }
}
