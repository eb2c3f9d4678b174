//! A statement's normalized text through sqlparser's PostgreSQL dialect, each statement
//! bounded in depth before anything walks it; sqlparser's errors become 42601 (or 54001,
//! or 0A000 for an assignment to an array slice, which it does not read).

use sqlparser::ast::{CreateTableOptions, Ident, ObjectName, SetExpr, SqlOption, Statement};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::{Parser, ParserError};

use super::{assignments, depth};
use crate::RouterError;

/// The statements of `normalized` (the output of `lexical::normalize`), each checked
/// against [`depth::MAX_EXPR_DEPTH`].
pub(crate) fn parse(normalized: &str) -> Result<Vec<Statement>, RouterError> {
    let statements = match Parser::parse_sql(&PostgreSqlDialect {}, normalized) {
        // `UPDATE t SET a[2] = x`: read once its assignments are rewritten.
        Err(e) if subscripted_assignment(&e) => match assignments::rewrite(normalized) {
            Some(sql) => Parser::parse_sql(&PostgreSqlDialect {}, &sql).map_err(syntax_error)?,
            None => return Err(syntax_error(e)),
        },
        // sqlparser does not read CREATE MATERIALIZED VIEW's WITH [NO] DATA.
        Err(e) if matview_data_clause(normalized).is_some() => {
            let (sql, with_data) = matview_data_clause(normalized).unwrap_or_default();
            let mut statements =
                Parser::parse_sql(&PostgreSqlDialect {}, &sql).map_err(|_| syntax_error(e))?;
            if let [Statement::CreateView(view)] = statements.as_mut_slice()
                && !with_data
            {
                view.options =
                    CreateTableOptions::With(vec![SqlOption::Ident(ObjectName::from(vec![
                        Ident::new(MATVIEW_WITH_NO_DATA),
                    ]))]);
            }
            statements
        }
        // sqlparser reads LIKE's INCLUDING / EXCLUDING DEFAULTS only.
        Err(_) if like_options(normalized) => {
            return Err(RouterError::unsupported(
                "CREATE TABLE ... (LIKE t INCLUDING | EXCLUDING ...) other than DEFAULTS",
            ));
        }
        parsed => parsed.map_err(syntax_error)?,
    };
    for ast in &statements {
        depth::check(ast)?;
    }
    statements.into_iter().map(select_into).collect()
}

/// `SELECT ... INTO [TEMP] t FROM ...` is `CREATE [TEMP] TABLE t AS SELECT ... FROM ...`,
/// as Postgres has it.
fn select_into(ast: Statement) -> Result<Statement, RouterError> {
    let Statement::Query(mut query) = ast else {
        return Ok(ast);
    };
    let SetExpr::Select(select) = query.body.as_mut() else {
        return Ok(Statement::Query(query));
    };
    let Some(into) = select.into.take() else {
        return Ok(Statement::Query(query));
    };
    let [target] = into.targets.as_slice() else {
        return Err(RouterError::syntax(
            "SELECT ... INTO takes one table".to_owned(),
        ));
    };
    let temporary = if into.temporary { " TEMPORARY" } else { "" };
    let sql = format!("CREATE{temporary} TABLE {target} AS {query}");
    Parser::parse_sql(&PostgreSqlDialect {}, &sql)
        .map_err(syntax_error)?
        .pop()
        .ok_or_else(|| RouterError::syntax("SELECT ... INTO".to_owned()))
}

/// The option a materialized view created `WITH NO DATA` carries after parsing.
pub(crate) const MATVIEW_WITH_NO_DATA: &str = "litescale.with_no_data";

/// A CREATE MATERIALIZED VIEW without its closing `WITH [NO] DATA`, and whether the
/// clause asks for data.
fn matview_data_clause(sql: &str) -> Option<(String, bool)> {
    let trimmed = sql.trim_end().trim_end_matches(';').trim_end();
    let upper = trimmed.to_ascii_uppercase();
    let words: Vec<&str> = upper.split_whitespace().collect();
    if words.get(..3) != Some(&["CREATE", "MATERIALIZED", "VIEW"][..]) {
        return None;
    }
    let (cut, with_data) = if upper.ends_with(" WITH NO DATA") {
        (" WITH NO DATA".len(), false)
    } else if upper.ends_with(" WITH DATA") {
        (" WITH DATA".len(), true)
    } else {
        return None;
    };
    Some((trimmed[..trimmed.len() - cut].to_owned(), with_data))
}

/// Whether `sql` is a CREATE TABLE whose LIKE clause has options.
fn like_options(sql: &str) -> bool {
    let upper = sql.to_ascii_uppercase().replace('(', " ( ");
    let words: Vec<&str> = upper.split_whitespace().collect();
    words.first() == Some(&"CREATE")
        && words
            .windows(4)
            .any(|w| w[0] == "(" && w[1] == "LIKE" && matches!(w[3], "INCLUDING" | "EXCLUDING"))
}

fn subscripted_assignment(e: &ParserError) -> bool {
    matches!(e, ParserError::ParserError(m) if m.starts_with("Expected: =, found: ["))
}

fn syntax_error(e: ParserError) -> RouterError {
    let detail = match e {
        ParserError::TokenizerError(m) | ParserError::ParserError(m) => m,
        ParserError::RecursionLimitExceeded => return depth::too_deep(),
    };
    // What `assignments` does not rewrite: a slice, `SET a[1:2] = x`.
    if detail.starts_with("Expected: =, found: [") {
        return RouterError::unsupported("assignment to an array slice (SET a[i:j] = ...)");
    }
    RouterError::syntax(format!("syntax error: {detail}"))
}

#[cfg(test)]
mod tests {
    use crate::plan;

    #[test]
    fn select_into_creates_the_table() {
        let p = &plan("SELECT id, name INTO archive FROM src WHERE n > 1").unwrap()[0];
        assert_eq!(p.kind, crate::StatementKind::Ddl("CREATE TABLE"));
        assert!(
            p.sqlite_sql
                .starts_with("CREATE TABLE archive AS SELECT id, name FROM src"),
            "{}",
            p.sqlite_sql
        );
        assert_eq!(plan("SELECT 1 INTO TEMP x").unwrap_err().sqlstate, "0A000");
    }

    #[test]
    fn syntax_errors_carry_42601() {
        let e = plan("SELEC 1").unwrap_err();
        assert_eq!(e.sqlstate, "42601");
        let e = plan("UPDATE t SET a[1:2] = '{1,2}'").unwrap_err();
        assert_eq!(e.sqlstate, "0A000");
        let e = plan("CREATE TABLE t (LIKE s INCLUDING ALL)").unwrap_err();
        assert_eq!(e.sqlstate, "0A000", "{}", e.message);
    }
}
