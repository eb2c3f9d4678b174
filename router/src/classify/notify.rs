//! `SELECT pg_notify(channel, payload)`: a NOTIFY the proxy sends, as a lone call (its
//! arguments literals or `$n`, as applications bind them); a call anywhere else is 0A000.
//! Unlike NOTIFY's, its channel is taken as given, not folded.

use sqlparser::ast::{Expr, Statement, Value};

use super::signals::{lone_call_of, placeholder_number};
use crate::RouterError;
use crate::plan::statement::{StatementKind, TextArg};

/// The statement's pg_notify call, if it calls it: `None` for any other statement.
pub(crate) fn classify(
    ast: &Statement,
    called: &[String],
) -> Option<Result<StatementKind, RouterError>> {
    let refused = || {
        RouterError::unsupported(
            "pg_notify() other than as SELECT pg_notify(channel, payload) alone",
        )
    };
    let (args, column) = match lone_call_of(ast, called, "pg_notify", refused)? {
        Ok(call) => call,
        Err(e) => return Some(Err(e)),
    };
    let args: Option<Vec<TextArg>> = args
        .into_iter()
        .map(|arg| match arg {
            Expr::Value(v) => match &v.value {
                Value::SingleQuotedString(s) => Some(TextArg::Text(s.clone())),
                Value::Null => Some(TextArg::Null),
                Value::Placeholder(p) => placeholder_number(p).map(TextArg::Param),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let Some([channel, payload]) = args.map(<[TextArg; 2]>::try_from).and_then(Result::ok) else {
        return Some(Err(refused()));
    };
    Some(Ok(StatementKind::Notify {
        channel,
        payload,
        answer: Some(column.unwrap_or_else(|| "pg_notify".to_owned())),
    }))
}

#[cfg(test)]
mod tests {
    use crate::plan::statement::{StatementKind, TextArg};
    use crate::test_support::{one, refused};

    #[test]
    fn a_lone_call_is_a_notify_and_any_other_use_is_refused() {
        assert_eq!(
            one("SELECT pg_notify($1, 'done')").kind,
            StatementKind::Notify {
                channel: TextArg::Param(1),
                payload: TextArg::Text("done".into()),
                answer: Some("pg_notify".into()),
            }
        );
        assert_eq!(one("SELECT pg_notify($1, $2)").param_count, 2);
        assert!(refused("SELECT pg_notify('a', 'b') FROM t").contains("pg_notify"));
        assert!(refused("SELECT pg_notify('a' || 'x', 'b')").contains("pg_notify"));
    }
}
