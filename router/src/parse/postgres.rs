//! A statement's normalized text through sqlparser's PostgreSQL dialect, each statement
//! bounded in depth before anything walks it; sqlparser's errors become 42601 (or 54001,
//! or 0A000 for Postgres syntax it does not read).

use sqlparser::ast::Statement;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::{Parser, ParserError};

use super::depth;
use crate::RouterError;

/// The statements of `normalized` (the output of `lexical::normalize`), each checked
/// against [`depth::MAX_EXPR_DEPTH`].
pub(crate) fn parse(normalized: &str) -> Result<Vec<Statement>, RouterError> {
    let statements = Parser::parse_sql(&PostgreSqlDialect {}, normalized).map_err(syntax_error)?;
    for ast in &statements {
        depth::check(ast)?;
    }
    Ok(statements)
}

fn syntax_error(e: ParserError) -> RouterError {
    let detail = match e {
        ParserError::TokenizerError(m) | ParserError::ParserError(m) => m,
        ParserError::RecursionLimitExceeded => return depth::too_deep(),
    };
    // Postgres' `UPDATE t SET a[2] = x`, which sqlparser cannot read.
    if detail.starts_with("Expected: =, found: [") {
        return RouterError::unsupported("assignment to an array element (SET a[i] = ...)");
    }
    RouterError::syntax(format!("syntax error: {detail}"))
}

#[cfg(test)]
mod tests {
    use crate::plan;

    #[test]
    fn syntax_errors_carry_42601() {
        let e = plan("SELEC 1").unwrap_err();
        assert_eq!(e.sqlstate, "42601");
        let e = plan("UPDATE t SET a[2] = 10").unwrap_err();
        assert_eq!(e.sqlstate, "0A000");
    }
}
