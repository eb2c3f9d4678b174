//! Literals as SQLite must have them: E'...' and $$...$$ strings as plain strings, numbers
//! only as far as SQLite holds them exactly (22003 beyond 15 significant digits).

use sqlparser::ast::{Expr, Value};

use super::super::sql::string;
use crate::RouterError;

/// A literal rewritten for SQLite; `None` when SQLite reads it as Postgres does.
pub(super) fn rewrite_value(value: &Value) -> Result<Option<Expr>, RouterError> {
    Ok(match value {
        // E'...' was unescaped by the tokenizer; SQLite takes the plain string, as it does
        // for $$...$$ bodies.
        Value::EscapedStringLiteral(s) => Some(string(s)),
        Value::DollarQuotedString(d) => Some(string(&d.value)),
        // SQLite keeps numbers as 64-bit integers or 8-byte floats: a literal it cannot
        // hold exactly is refused rather than rounded.
        Value::Number(n, _) if n.parse::<i64>().is_err() && significant_digits(n) > 15 => {
            return Err(RouterError {
                sqlstate: "22003",
                message: format!(
                    "numeric value {n} has more than 15 significant digits, which litescale cannot store exactly"
                ),
            });
        }
        _ => None,
    })
}

fn significant_digits(number: &str) -> usize {
    let mantissa = number.split(['e', 'E']).next().unwrap_or(number);
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    digits.trim_start_matches('0').trim_end_matches('0').len()
}

#[cfg(test)]
mod tests {
    use crate::plan::session::SessionContext;
    use crate::plan_in;
    use crate::test_support::sql;

    #[test]
    fn escaped_and_dollar_quoted_strings_become_plain_strings() {
        assert_eq!(
            sql("select E'a\\nb', $$it's$$, $x$y$x$"),
            "SELECT 'a\nb' AS \"?column?\", 'it''s' AS \"?column?\", 'y' AS \"?column?\""
        );
    }

    #[test]
    fn numbers_sqlite_cannot_hold_exactly_are_refused() {
        assert!(plan_in("select 123456789012345678", &SessionContext::default()).is_ok());
        assert!(plan_in("select 3.14159265358979", &SessionContext::default()).is_ok());
        let e = plan_in("select 3.14159265358979323846", &SessionContext::default()).unwrap_err();
        assert_eq!(e.sqlstate, "22003");
        assert!(plan_in("select 1e300", &SessionContext::default()).is_ok());
    }
}
