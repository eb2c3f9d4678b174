//! `SELECT set_config(name, value, is_local)`: a session setting, which only the proxy
//! keeps, so the router makes it a [`StatementKind::Set`] that answers with the setting's
//! new value, as Postgres' function does (pg_dump starts with one). A call over a table's
//! rows is a read (the shard refuses it for any row that reaches it); any other use is
//! refused with 0A000. Its reading twin, `SELECT current_setting(name)` alone (Diesel's
//! migrations keep the search_path so), is the proxy's too: a
//! [`StatementKind::CurrentSetting`]. Elsewhere the shard answers current_setting() for
//! the server's own settings.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Statement, Value, visit_expressions,
};

use super::signals::lone_call;
use crate::RouterError;
use crate::plan::statement::{StatementKind, TextArg};

/// The statement's set_config call, if it calls the function, or its lone
/// current_setting call.
pub(crate) fn classify(ast: &Statement) -> Option<Result<StatementKind, RouterError>> {
    let Statement::Query(query) = ast else {
        return None;
    };
    if let Some(reading) = current_setting(query) {
        return Some(Ok(reading));
    }
    let mut called = false;
    let _ = visit_expressions(ast, |e| match e {
        Expr::Function(f) if is_set_config(&f.name.to_string()) => {
            called = true;
            ControlFlow::Break(())
        }
        _ => ControlFlow::Continue(()),
    });
    if !called {
        return None;
    }
    // Over a table's rows (pg_dump's `SELECT set_config(name, ...) FROM pg_settings WHERE
    // name = '...'`): a read, which the shard's set_config refuses if a row reaches it.
    if matches!(query.body.as_ref(), sqlparser::ast::SetExpr::Select(s) if !s.from.is_empty()) {
        return None;
    }
    let setting = lone_call(query).and_then(|(f, column)| {
        let FunctionArguments::List(list) = &f.args else {
            return None;
        };
        let [name, value, local] = list.args.as_slice() else {
            return None;
        };
        Some(StatementKind::Set {
            name: text(name)?.to_ascii_lowercase(),
            value: Some(text_or_param(value)?),
            local: boolean(local)?,
            answer: Some(column.unwrap_or_else(|| "set_config".to_owned())),
        })
    });
    Some(setting.ok_or_else(|| {
        RouterError::unsupported(
            "set_config() other than as SELECT set_config('name', 'value', true|false) alone",
        )
    }))
}

/// `SELECT current_setting('name' [, true|false])` alone.
fn current_setting(query: &sqlparser::ast::Query) -> Option<StatementKind> {
    let (f, column) = lone_call(query)?;
    let name = f.name.to_string().to_ascii_lowercase();
    if !matches!(
        name.as_str(),
        "current_setting" | "pg_catalog.current_setting"
    ) {
        return None;
    }
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    let (setting, missing_ok) = match list.args.as_slice() {
        [name] => (text(name)?, false),
        [name, missing_ok] => (text(name)?, boolean(missing_ok)?),
        _ => return None,
    };
    Some(StatementKind::CurrentSetting {
        name: setting.to_ascii_lowercase(),
        missing_ok,
        answer: column.unwrap_or_else(|| "current_setting".to_owned()),
    })
}

fn is_set_config(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "set_config" | "pg_catalog.set_config"
    )
}

fn literal(arg: &FunctionArg) -> Option<&Value> {
    match arg {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v))) => Some(&v.value),
        _ => None,
    }
}

fn text(arg: &FunctionArg) -> Option<String> {
    match literal(arg)? {
        Value::SingleQuotedString(s) => Some(s.clone()),
        _ => None,
    }
}

/// A literal text, or `$n` (Diesel and psycopg's server-side binding send the value so).
fn text_or_param(arg: &FunctionArg) -> Option<TextArg> {
    match literal(arg)? {
        Value::SingleQuotedString(s) => Some(TextArg::Text(s.clone())),
        Value::Placeholder(p) => Some(TextArg::Param(p.strip_prefix('$')?.parse().ok()?)),
        _ => None,
    }
}

fn boolean(arg: &FunctionArg) -> Option<bool> {
    match literal(arg)? {
        Value::Boolean(b) => Some(*b),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::StatementKind;
    use crate::plan::statement::TextArg;
    use crate::test_support::{one, refused};

    #[test]
    fn a_lone_call_sets_the_setting_and_answers_it() {
        assert_eq!(
            one("SELECT pg_catalog.set_config('search_path', '', false)").kind,
            StatementKind::Set {
                name: "search_path".into(),
                value: Some(TextArg::Text(String::new())),
                local: false,
                answer: Some("set_config".into()),
            }
        );
        assert_eq!(
            one("select set_config('TimeZone', 'UTC', true) as tz").kind,
            StatementKind::Set {
                name: "timezone".into(),
                value: Some(TextArg::Text("UTC".into())),
                local: true,
                answer: Some("tz".into()),
            }
        );
        assert_eq!(
            one("SELECT set_config('search_path', $1, false)").kind,
            StatementKind::Set {
                name: "search_path".into(),
                value: Some(TextArg::Param(1)),
                local: false,
                answer: Some("set_config".into()),
            }
        );
        assert!(refused("SELECT set_config('a.b', 'x' || 'y', false)").contains("set_config"));
        // Over a table's rows: a read, which the shard refuses for any row it reaches.
        assert_eq!(
            one("SELECT set_config(name, 'x', false) FROM pg_settings WHERE name = 'y'").kind,
            StatementKind::Read
        );
    }
}
