//! A statement's normalized text through sqlparser's PostgreSQL dialect, each statement
//! bounded in depth before anything walks it; sqlparser's errors become 42601 (or 54001).

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
    RouterError::syntax(format!("syntax error: {detail}"))
}

#[cfg(test)]
mod tests {
    use crate::plan;

    #[test]
    fn syntax_errors_carry_42601() {
        let e = plan("SELEC 1").unwrap_err();
        assert_eq!(e.sqlstate, "42601");
    }
}
