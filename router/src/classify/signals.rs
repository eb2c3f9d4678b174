//! `SELECT pg_cancel_backend(pid)` and `SELECT pg_terminate_backend(pid)`: they act on
//! another session of the server, which only the proxy knows, so the router turns the
//! statement into [`StatementKind::SignalBackend`] instead of SQLite SQL. Any other use of
//! the two functions (in a FROM query, a WHERE, beside other columns) is refused with
//! 0A000 rather than reaching SQLite, which does not know them.

use sqlparser::ast::{
    Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, Query, SelectItem, SetExpr,
    Statement, UnaryOperator, Value,
};

use crate::RouterError;
use crate::plan::session::SessionContext;
use crate::plan::signal::{BackendPid, Signal};
use crate::plan::statement::StatementKind;

/// The statement's signal call, if it is one: `None` for a query that does not call
/// either function.
pub(crate) fn classify(
    ast: &Statement,
    called: &[String],
    ctx: &SessionContext,
) -> Option<Result<StatementKind, RouterError>> {
    let Statement::Query(query) = ast else {
        return None;
    };
    let signal = called.iter().find_map(|name| Signal::of(name))?;
    Some(sole_call(query, ctx).ok_or_else(|| {
        RouterError::unsupported(&format!(
            "{0}() other than as SELECT {0}(pid) alone (a number, a parameter or \
             pg_backend_pid(); no FROM)",
            signal.function()
        ))
    }))
}

/// `SELECT f(...) [AS name]` with nothing else: the call, and the name of its column.
pub(crate) fn lone_call(query: &Query) -> Option<(&Function, Option<String>)> {
    if query.with.is_some() || query.order_by.is_some() || query.limit_clause.is_some() {
        return None;
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    if !select.from.is_empty() || select.selection.is_some() || select.projection.len() != 1 {
        return None;
    }
    let (expr, column) = match &select.projection[0] {
        SelectItem::UnnamedExpr(e) => (e, None),
        SelectItem::ExprWithAlias { expr, alias } => (expr, Some(alias.value.clone())),
        _ => return None,
    };
    match expr {
        Expr::Function(f) => Some((f, column)),
        _ => None,
    }
}

/// A lone call's arguments, and the name its answer's column takes (`AS`).
pub(crate) type LoneCall<'a> = (Vec<&'a Expr>, Option<String>);

/// The arguments of the lone call of `name` (a function the proxy answers) the statement
/// makes, and the answer's column: `None` when the statement does not call `name`;
/// `refused` when it calls it otherwise than alone, or with named arguments.
pub(crate) fn lone_call_of<'a>(
    ast: &'a Statement,
    called: &[String],
    name: &str,
    refused: impl Fn() -> RouterError,
) -> Option<Result<LoneCall<'a>, RouterError>> {
    let Statement::Query(query) = ast else {
        return None;
    };
    if !called.iter().any(|c| c == name) {
        return None;
    }
    let Some((f, column)) =
        lone_call(query).filter(|(f, _)| f.name.to_string().eq_ignore_ascii_case(name))
    else {
        return Some(Err(refused()));
    };
    let FunctionArguments::List(list) = &f.args else {
        return Some(Err(refused()));
    };
    let args: Option<Vec<&Expr>> = list
        .args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect();
    Some(args.map(|args| (args, column)).ok_or_else(refused))
}

/// The n of a `$n` parameter.
pub(crate) fn placeholder_number(placeholder: &str) -> Option<usize> {
    placeholder.strip_prefix('$')?.parse().ok()
}

/// `SELECT f(pid) [AS name]` with nothing else.
fn sole_call(query: &Query, ctx: &SessionContext) -> Option<StatementKind> {
    let (f, column) = lone_call(query)?;
    let signal = Signal::of(&f.name.to_string().to_ascii_lowercase())?;
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))] = list.args.as_slice() else {
        return None;
    };
    Some(StatementKind::SignalBackend {
        signal,
        pid: pid_of(arg, ctx)?,
        column: column.unwrap_or_else(|| signal.function().to_owned()),
    })
}

fn pid_of(arg: &Expr, ctx: &SessionContext) -> Option<BackendPid> {
    match arg {
        Expr::Nested(inner) => pid_of(inner, ctx),
        Expr::Cast { expr, .. } => pid_of(expr, ctx),
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => match pid_of(expr, ctx)? {
            BackendPid::Pid(n) => Some(BackendPid::Pid(n.checked_neg()?)),
            _ => None,
        },
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse().ok().map(BackendPid::Pid),
            Value::SingleQuotedString(s) => s.trim().parse().ok().map(BackendPid::Pid),
            Value::Null => Some(BackendPid::Null),
            Value::Placeholder(p) => placeholder_number(p).map(BackendPid::Param),
            _ => None,
        },
        Expr::Function(f)
            if f.name.to_string().eq_ignore_ascii_case("pg_backend_pid")
                && matches!(&f.args, FunctionArguments::List(l) if l.args.is_empty()) =>
        {
            Some(BackendPid::Pid(ctx.backend_pid))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::{SessionContext, StatementKind, plan_in};

    use super::{BackendPid, Signal};

    fn kind(sql: &str) -> Result<StatementKind, String> {
        let ctx = SessionContext {
            backend_pid: 77,
            ..SessionContext::default()
        };
        plan_in(sql, &ctx)
            .map(|mut p| p.remove(0).kind)
            .map_err(|e| e.sqlstate.to_owned())
    }

    #[test]
    fn a_lone_call_becomes_a_signal() {
        assert_eq!(
            kind("select pg_terminate_backend(123)"),
            Ok(StatementKind::SignalBackend {
                signal: Signal::Terminate,
                pid: BackendPid::Pid(123),
                column: "pg_terminate_backend".into(),
            })
        );
        assert_eq!(
            kind("SELECT pg_cancel_backend($1::int) AS ok"),
            Ok(StatementKind::SignalBackend {
                signal: Signal::Cancel,
                pid: BackendPid::Param(1),
                column: "ok".into(),
            })
        );
        assert_eq!(
            kind("select pg_terminate_backend(pg_backend_pid())"),
            Ok(StatementKind::SignalBackend {
                signal: Signal::Terminate,
                pid: BackendPid::Pid(77),
                column: "pg_terminate_backend".into(),
            })
        );
        assert!(matches!(
            kind("select pg_cancel_backend(null)"),
            Ok(StatementKind::SignalBackend {
                pid: BackendPid::Null,
                ..
            })
        ));
    }

    #[test]
    fn any_other_use_is_refused_with_0a000() {
        for sql in [
            "select pg_terminate_backend(pid) from t",
            "select 1, pg_cancel_backend(5)",
            "select pg_terminate_backend(5, 100)",
            "select * from t where pg_cancel_backend(a)",
            "select pg_terminate_backend(a + 1)",
        ] {
            assert_eq!(kind(sql), Err("0A000".to_owned()), "{sql}");
        }
        assert_eq!(kind("select pg_backend_pid()"), Ok(StatementKind::Read));
    }
}
