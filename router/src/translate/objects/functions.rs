//! CREATE FUNCTION ... LANGUAGE sql and DROP FUNCTION, as calls of the shard's function
//! registry (shard engine/objects/functions.rs). A function's body is one query, planned
//! like a client's (the caller hands in how), its arguments by number (`$1`) or by name
//! becoming the query's parameters; a call runs it and answers the first value of its
//! first row. What a SQL function cannot be here is refused naming it: other languages
//! (PL/pgSQL), set-returning functions, OUT parameters, defaults, bodies that write.

use std::ops::ControlFlow;

use sqlparser::ast::{
    CreateFunction, CreateFunctionBody, DropFunction, Expr, FunctionBehavior, FunctionReturnType,
    Statement, Value, visit_expressions_mut,
};

use crate::RouterError;
use crate::infer::schema::last_part;
use crate::parse::lexical::string_literal;

/// `SELECT litescale_create_function(...)` for `create`; `parse_body` reads the body's
/// text as statements, `plan_body` turns its query into the SQL SQLite runs.
pub(crate) fn create(
    create: &CreateFunction,
    parse_body: impl FnOnce(&str) -> Result<Vec<Statement>, RouterError>,
    plan_body: impl FnOnce(Statement) -> Result<String, RouterError>,
) -> Result<String, RouterError> {
    let language = create
        .language
        .as_ref()
        .map(|l| l.value.to_ascii_lowercase())
        .unwrap_or_default();
    if language != "sql" {
        let named = if language == "plpgsql" {
            "PL/pgSQL functions (LANGUAGE plpgsql)".to_owned()
        } else {
            format!("CREATE FUNCTION ... LANGUAGE {language}")
        };
        return Err(RouterError::unsupported(&named));
    }
    let returns = match &create.return_type {
        Some(FunctionReturnType::DataType(t)) => t.to_string(),
        Some(FunctionReturnType::SetOf(_)) => {
            return Err(RouterError::unsupported(
                "a set-returning SQL function (RETURNS SETOF or TABLE)",
            ));
        }
        None => {
            return Err(RouterError::unsupported(
                "CREATE FUNCTION without RETURNS (OUT parameters)",
            ));
        }
    };
    if returns.eq_ignore_ascii_case("trigger") {
        return Err(RouterError::unsupported("trigger functions"));
    }
    let args = create.args.clone().unwrap_or_default();
    if args
        .iter()
        .any(|a| a.mode.is_some() || a.default_expr.is_some())
    {
        return Err(RouterError::unsupported(
            "a SQL function's argument modes (IN/OUT/INOUT) and defaults",
        ));
    }
    let text = match &create.function_body {
        Some(
            CreateFunctionBody::AsBeforeOptions { body, .. }
            | CreateFunctionBody::AsAfterOptions(body),
        ) => match body {
            Expr::Value(v) => match &v.value {
                Value::SingleQuotedString(s) => s.clone(),
                Value::DollarQuotedString(d) => d.value.clone(),
                _ => return Err(body_refused()),
            },
            _ => return Err(body_refused()),
        },
        Some(CreateFunctionBody::Return(expr)) => format!("SELECT {expr}"),
        _ => return Err(body_refused()),
    };
    let mut statements = parse_body(&text)?;
    let mut body = match statements.len() {
        1 => statements.remove(0),
        _ => {
            return Err(RouterError::unsupported(
                "a SQL function whose body has several statements",
            ));
        }
    };
    if !matches!(body, Statement::Query(_)) {
        return Err(RouterError::unsupported("a SQL function whose body writes"));
    }
    // An argument named in the body is its parameter.
    let names: Vec<Option<String>> = args
        .iter()
        .map(|a| a.name.as_ref().map(|n| n.value.to_ascii_lowercase()))
        .collect();
    let _ = visit_expressions_mut(&mut body, |e| {
        if let Expr::Identifier(ident) = e
            && let Some(at) = names
                .iter()
                .position(|n| n.as_deref() == Some(&ident.value.to_ascii_lowercase()))
        {
            *e = Expr::value(Value::Placeholder(format!("${}", at + 1)));
        }
        ControlFlow::<()>::Continue(())
    });
    let query = plan_body(body)?;
    let name = last_part(&create.name).to_ascii_lowercase();
    let shown = serde_json::json!({
        "argument_names": args.iter().map(|a| a.name.as_ref().map(|n| n.value.clone())).collect::<Vec<_>>(),
        "argument_types": args.iter().map(|a| a.data_type.to_string()).collect::<Vec<_>>(),
        "returns": returns,
        "body": text,
        // pg_proc.provolatile: i(mmutable), s(table), v(olatile, Postgres' default).
        "volatility": match create.behavior {
            Some(FunctionBehavior::Immutable) => "i",
            Some(FunctionBehavior::Stable) => "s",
            _ => "v",
        },
    });
    Ok(format!(
        "SELECT litescale_create_function({}, {}, {}, {}, {})",
        string_literal(&name),
        args.len(),
        string_literal(&query),
        create.or_replace,
        string_literal(&shown.to_string())
    ))
}

/// DROP FUNCTION, one call per function named.
pub(crate) fn drop(drop: &DropFunction) -> Vec<String> {
    drop.func_desc
        .iter()
        .map(|f| {
            let arity = f
                .args
                .as_ref()
                .map_or_else(|| "NULL".to_owned(), |a| a.len().to_string());
            format!(
                "SELECT litescale_drop_function({}, {arity}, {})",
                string_literal(&last_part(&f.name).to_ascii_lowercase()),
                drop.if_exists
            )
        })
        .collect()
}

fn body_refused() -> RouterError {
    RouterError::unsupported("a SQL function body but a quoted query (BEGIN ATOMIC)")
}
