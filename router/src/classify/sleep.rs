//! `SELECT pg_sleep(seconds)`: the wait happens in the proxy, where a cancel or
//! statement_timeout can end it, not on a SQLite connection other sessions share. The
//! router turns a lone call into [`StatementKind::Sleep`]; a call anywhere else is 0A000.

use sqlparser::ast::{Expr, Statement, Value};

use super::signals::{lone_call_of, placeholder_number};
use crate::RouterError;
use crate::plan::statement::{SleepSeconds, StatementKind};

/// The statement's pg_sleep call, if it calls it: `None` for any other statement.
pub(crate) fn classify(
    ast: &Statement,
    called: &[String],
) -> Option<Result<StatementKind, RouterError>> {
    let refused =
        || RouterError::unsupported("pg_sleep() other than as SELECT pg_sleep(seconds) alone");
    let (args, column) = match lone_call_of(ast, called, "pg_sleep", refused)? {
        Ok(call) => call,
        Err(e) => return Some(Err(e)),
    };
    let [arg] = args.as_slice() else {
        return Some(Err(refused()));
    };
    let seconds = match arg {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse::<f64>().ok().map(SleepSeconds::from_seconds),
            Value::Null => Some(SleepSeconds::Null),
            Value::Placeholder(p) => placeholder_number(p).map(SleepSeconds::Param),
            _ => None,
        },
        _ => None,
    };
    Some(
        seconds
            .ok_or_else(refused)
            .map(|seconds| StatementKind::Sleep {
                seconds,
                column: column.unwrap_or_else(|| "pg_sleep".to_owned()),
            }),
    )
}

#[cfg(test)]
mod tests {
    use crate::plan;
    use crate::plan::statement::{SleepSeconds, StatementKind};

    #[test]
    fn a_lone_call_sleeps_in_the_proxy_and_any_other_use_is_refused() {
        assert_eq!(
            plan("SELECT pg_sleep(0.25)").unwrap()[0].kind,
            StatementKind::Sleep {
                seconds: SleepSeconds::Millis(250),
                column: "pg_sleep".to_owned()
            }
        );
        assert_eq!(plan("select pg_sleep($1) as z").unwrap()[0].param_count, 1);
        for refused in [
            "SELECT pg_sleep(1) FROM t",
            "SELECT pg_sleep(1 + 1)",
            "SELECT 1, pg_sleep(1)",
        ] {
            assert_eq!(plan(refused).unwrap_err().sqlstate, "0A000", "{refused}");
        }
    }
}
