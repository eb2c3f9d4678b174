//! `SELECT pg_advisory_lock(k)` and its family: advisory locks belong to sessions, which
//! only the proxy knows, so the router turns a lone call into
//! [`StatementKind::AdvisoryLock`] instead of SQLite SQL (as `signals` does for its two
//! functions). A call anywhere else (beside other columns, in a FROM query, over a table's
//! column) is refused with 0A000 rather than reaching SQLite, which does not know them.

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Statement, UnaryOperator, Value,
};

use super::signals::{lone_call, placeholder_number};
use crate::RouterError;
use crate::plan::advisory_lock::{AdvisoryAction, AdvisoryLockCall, KeyArg};
use crate::plan::statement::StatementKind;

/// The statement's advisory lock call, if it calls one: `None` for any other statement.
pub(crate) fn classify(
    ast: &Statement,
    called: &[String],
) -> Option<Result<StatementKind, RouterError>> {
    let Statement::Query(query) = ast else {
        return None;
    };
    let name = called
        .iter()
        .find(|name| AdvisoryLockCall::of(name).is_some())?;
    let refused = || {
        RouterError::unsupported(&format!(
            "{name}() other than as SELECT {name}(key) alone (numbers or parameters; no FROM)"
        ))
    };
    let Some((f, column)) = lone_call(query) else {
        return Some(Err(refused()));
    };
    let call_name = f.name.to_string().to_ascii_lowercase();
    let Some((action, shared, transaction)) = AdvisoryLockCall::of(&call_name) else {
        return Some(Err(refused()));
    };
    let args = match &f.args {
        FunctionArguments::List(list) => list.args.as_slice(),
        FunctionArguments::None => &[],
        FunctionArguments::Subquery(_) => return Some(Err(refused())),
    };
    let key: Option<Vec<KeyArg>> = args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => key_arg(e),
            _ => None,
        })
        .collect();
    let Some(key) = key else {
        return Some(Err(refused()));
    };
    let arity_fits = match action {
        AdvisoryAction::UnlockAll => key.is_empty(),
        _ => matches!(key.len(), 1 | 2),
    };
    // Two keys are integers: a wider number makes the call one of (integer, bigint),
    // which does not exist.
    let wide = |k: &KeyArg| matches!(k, KeyArg::Value(v) if i32::try_from(*v).is_err());
    if !arity_fits || (key.len() == 2 && key.iter().any(wide)) {
        return Some(Err(RouterError {
            sqlstate: "42883",
            message: format!(
                "function {call_name} with these {} arguments does not exist",
                key.len()
            ),
        }));
    }
    Some(Ok(StatementKind::AdvisoryLock(AdvisoryLockCall {
        action,
        shared,
        transaction,
        key,
        column: column.unwrap_or(call_name),
    })))
}

fn key_arg(e: &Expr) -> Option<KeyArg> {
    match e {
        Expr::Nested(inner) | Expr::Cast { expr: inner, .. } => key_arg(inner),
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => match key_arg(expr)? {
            KeyArg::Value(n) => Some(KeyArg::Value(n.checked_neg()?)),
            KeyArg::Param(_) | KeyArg::Null => None,
        },
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse().ok().map(KeyArg::Value),
            Value::Null => Some(KeyArg::Null),
            Value::Placeholder(p) => placeholder_number(p).map(KeyArg::Param),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::plan::advisory_lock::{AdvisoryAction, AdvisoryLockCall, KeyArg};
    use crate::{StatementKind, plan};

    #[test]
    fn a_lone_call_becomes_an_advisory_lock_and_any_other_use_is_refused() {
        assert_eq!(
            plan("SELECT pg_try_advisory_lock(3423434) AS locked").unwrap()[0].kind,
            StatementKind::AdvisoryLock(AdvisoryLockCall {
                action: AdvisoryAction::TryLock,
                shared: false,
                transaction: false,
                key: vec![KeyArg::Value(3423434)],
                column: "locked".to_owned(),
            })
        );
        let two = &plan("select pg_advisory_xact_lock_shared($1, -2)").unwrap()[0];
        assert_eq!(two.param_count, 1);
        assert!(matches!(
            &two.kind,
            StatementKind::AdvisoryLock(c) if c.key == [KeyArg::Param(1), KeyArg::Value(-2)]
                && c.shared && c.transaction && c.column == "pg_advisory_xact_lock_shared"
        ));
        for refused in [
            "SELECT pg_advisory_lock(id) FROM t",
            "SELECT 1, pg_advisory_unlock(1)",
            "SELECT pg_advisory_lock(hashtext('x'))",
        ] {
            assert_eq!(plan(refused).unwrap_err().sqlstate, "0A000", "{refused}");
        }
        for wrong in [
            "SELECT pg_advisory_lock(1, 2, 3)",
            "SELECT pg_advisory_lock(1, 3000000000)",
        ] {
            assert_eq!(plan(wrong).unwrap_err().sqlstate, "42883", "{wrong}");
        }
    }
}
