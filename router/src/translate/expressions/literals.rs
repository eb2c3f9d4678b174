//! Literals as SQLite must have them: E'...' and $$...$$ strings as plain strings, numbers
//! past what SQLite holds exactly (15 significant digits) as numerics.

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
        // hold exactly is a numeric, exact where it is computed with or answered, and
        // refused (22003) where SQLite would have to hold it.
        Value::Number(n, _) if n.parse::<i64>().is_err() && significant_digits(n) > 15 => {
            Some(super::numeric::wide_literal(n))
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
    fn numbers_sqlite_cannot_hold_exactly_are_numerics() {
        assert!(plan_in("select 123456789012345678", &SessionContext::default()).is_ok());
        assert!(plan_in("select 1e300", &SessionContext::default()).is_ok());
        // Answered as written; computed with exactly; a SQLite number only where SQLite
        // compares it (where the shard refuses it, 22003).
        assert_eq!(
            sql(
                "select 3.14159265358979323846, 3.14159265358979323846 + 1 from t where x = 3.14159265358979323846"
            ),
            "SELECT '3.14159265358979323846' AS \"?column?\", \
             pg_num_add('3.14159265358979323846', '1') AS \"?column?\" \
             FROM t WHERE x = pg_num_exact('3.14159265358979323846')"
        );
    }
}
