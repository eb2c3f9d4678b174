//! A statement's `$n` parameters: numbered for SQLite (`?n`), checked (42P02 past
//! $65535), and counted, so the plan knows how many values Bind must bring.

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, Statement, Value, visit_expressions_mut};

use crate::RouterError;

/// Rewrites `$n` to SQLite's `?n`, which binds by number whatever the order of appearance
/// (SQLite numbers `$name` parameters by first appearance instead). Returns the highest n.
pub(crate) fn rewrite_placeholders(ast: &mut Statement) -> Result<usize, RouterError> {
    let mut highest = 0usize;
    let flow = visit_expressions_mut(ast, |expr| {
        if let Expr::Value(v) = expr
            && let Value::Placeholder(p) = &mut v.value
        {
            let Some(n) = p.strip_prefix('$').and_then(|d| d.parse::<usize>().ok()) else {
                return ControlFlow::Break(RouterError::syntax(format!(
                    "syntax error at or near \"{p}\""
                )));
            };
            if n == 0 || n > 65_535 {
                return ControlFlow::Break(RouterError {
                    sqlstate: "42P02",
                    message: format!("there is no parameter ${n}"),
                });
            }
            highest = highest.max(n);
            *p = format!("?{n}");
        }
        ControlFlow::Continue(())
    });
    match flow {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(highest),
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::one;

    #[test]
    fn placeholders_become_numbered_sqlite_parameters() {
        let p = one("select * from t where b = $2 and a = $1");
        assert_eq!(p.param_count, 2);
        assert_eq!(p.sqlite_sql, "SELECT * FROM t WHERE b = ?2 AND a = ?1");
    }
}
