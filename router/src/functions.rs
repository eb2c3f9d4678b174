//! Postgres functions and operators SQLite lacks or spells differently, rewritten into
//! SQLite expressions with the same result.

use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList,
    FunctionArguments, Ident, ObjectName, Statement, Value, visit_expressions_mut,
};

use crate::RouterError;

/// What a session's own functions answer: `current_database()`, `current_user`, ...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionContext {
    pub database: String,
    pub user: String,
    pub backend_pid: i32,
}

impl Default for SessionContext {
    fn default() -> Self {
        SessionContext {
            database: "postgres".to_owned(),
            user: "postgres".to_owned(),
            backend_pid: 0,
        }
    }
}

fn string(s: &str) -> Expr {
    Expr::value(Value::SingleQuotedString(s.to_owned()))
}

fn number(n: impl ToString) -> Expr {
    Expr::value(Value::Number(n.to_string(), false))
}

/// A call of a SQLite function.
pub(crate) fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
                .collect(),
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

fn args(f: &Function) -> Vec<Expr> {
    match &f.args {
        FunctionArguments::List(list) => list
            .args
            .iter()
            .filter_map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Postgres' `now()`: a timestamp with microseconds (SQLite gives milliseconds).
fn now() -> Expr {
    call(
        "strftime",
        vec![string("%Y-%m-%d %H:%M:%f+00"), string("now")],
    )
}

fn rewrite_function(f: &Function, ctx: &SessionContext) -> Option<Expr> {
    let name = f.name.0.last()?.as_ident()?.value.to_ascii_lowercase();
    let a = args(f);
    Some(match (name.as_str(), a.len()) {
        ("now" | "transaction_timestamp" | "statement_timestamp" | "clock_timestamp", 0) => now(),
        ("current_timestamp", 0) if matches!(f.args, FunctionArguments::None) => now(),
        ("localtimestamp", 0) => call("strftime", vec![string("%Y-%m-%d %H:%M:%f"), string("now")]),
        ("version", 0) => Expr::BinaryOp {
            left: Box::new(string(&format!(
                "PostgreSQL {} (litescale {}) on SQLite ",
                crate::SERVER_VERSION,
                env!("CARGO_PKG_VERSION")
            ))),
            op: BinaryOperator::StringConcat,
            right: Box::new(call("sqlite_version", vec![])),
        },
        ("current_database" | "current_catalog", 0) => string(&ctx.database),
        ("current_user" | "session_user" | "user" | "current_role", 0) => string(&ctx.user),
        ("current_schema", 0) => string("public"),
        ("pg_backend_pid", 0) => number(ctx.backend_pid),
        // Postgres' random() is uniform in [0, 1); SQLite's is a random 64-bit integer.
        ("random", 0) => Expr::Nested(Box::new(Expr::BinaryOp {
            left: Box::new(call("abs", vec![call("random", vec![])])),
            op: BinaryOperator::Divide,
            right: Box::new(number("9223372036854775808.0")),
        })),
        ("strpos", 2) => call("instr", a),
        ("char_length" | "character_length", 1) => call("length", a),
        ("left", 2) => call("substr", vec![a[0].clone(), number(1), a[1].clone()]),
        ("right", 2) => call(
            "substr",
            vec![
                a[0].clone(),
                Expr::UnaryOp {
                    op: sqlparser::ast::UnaryOperator::Minus,
                    expr: Box::new(a[1].clone()),
                },
            ],
        ),
        _ => return None,
    })
}

/// Rewrites, in place, every expression of `ast` that SQLite would read differently.
pub(crate) fn rewrite(ast: &mut Statement, ctx: &SessionContext) -> Result<(), RouterError> {
    let flow = visit_expressions_mut(ast, |expr| {
        let replacement = match expr {
            Expr::Function(f) => rewrite_function(f, ctx),
            Expr::Identifier(i) if i.quote_style.is_none() && i.value == "current_schema" => {
                Some(string("public"))
            }
            Expr::Position { expr: needle, r#in } => {
                Some(call("instr", vec![(**r#in).clone(), (**needle).clone()]))
            }
            Expr::Substring {
                expr: s,
                substring_from,
                substring_for,
                ..
            } => {
                let mut a = vec![(**s).clone()];
                a.push(
                    substring_from
                        .as_deref()
                        .cloned()
                        .unwrap_or_else(|| number(1)),
                );
                if let Some(n) = substring_for {
                    a.push((**n).clone());
                }
                Some(call("substr", a))
            }
            // SQLite's LIKE is made case-sensitive (as Postgres') on every connection, so
            // ILIKE compares lower-cased sides.
            Expr::ILike {
                negated,
                any: false,
                expr: e,
                pattern,
                escape_char,
            } => Some(Expr::Like {
                negated: *negated,
                any: false,
                expr: Box::new(call("lower", vec![(**e).clone()])),
                pattern: Box::new(call("lower", vec![(**pattern).clone()])),
                escape_char: escape_char.clone(),
            }),
            // Postgres raises 22012 on division by zero where SQLite returns NULL; the
            // shard registers pg_div / pg_mod with Postgres' behaviour.
            Expr::BinaryOp {
                left,
                op: op @ (BinaryOperator::Divide | BinaryOperator::Modulo),
                right,
            } => {
                let f = if *op == BinaryOperator::Divide {
                    "pg_div"
                } else {
                    "pg_mod"
                };
                Some(call(f, vec![(**left).clone(), (**right).clone()]))
            }
            Expr::SimilarTo { .. } => {
                return ControlFlow::Break(RouterError {
                    sqlstate: "0A000",
                    message: "SIMILAR TO is not supported by litescale".to_owned(),
                });
            }
            _ => None,
        };
        if let Some(r) = replacement {
            *expr = r;
        }
        ControlFlow::Continue(())
    });
    match flow {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan_in;

    fn sql(text: &str) -> String {
        let ctx = SessionContext {
            database: "shop".into(),
            user: "ann".into(),
            backend_pid: 42,
        };
        plan_in(text, &ctx).unwrap().remove(0).sqlite_sql
    }

    #[test]
    fn session_functions_answer_from_the_session() {
        assert_eq!(
            sql("select current_database(), current_user, pg_backend_pid(), current_schema()"),
            "SELECT 'shop' AS \"current_database\", 'ann' AS \"current_user\", \
             42 AS \"pg_backend_pid\", 'public' AS \"current_schema\""
        );
    }

    #[test]
    fn string_functions_and_operators() {
        assert_eq!(
            sql("select position('b' in s), substring(s from 2 for 3) from t where s ilike 'A%'"),
            "SELECT instr(s, 'b') AS \"position\", substr(s, 2, 3) AS \"substring\" FROM t \
             WHERE lower(s) LIKE lower('A%')"
        );
        assert_eq!(
            sql("select a / b, a % 2 from t"),
            "SELECT pg_div(a, b) AS \"?column?\", pg_mod(a, 2) AS \"?column?\" FROM t"
        );
    }
}
