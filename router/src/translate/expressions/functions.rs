//! Function calls SQLite lacks or spells differently: the session's own functions, renamed
//! ones, catalog "deparse" calls, ARRAY(subquery), SQL's special forms (TRIM, POSITION,
//! SUBSTRING); functions that reach files are refused (42501). Postgres functions SQLite
//! answers differently under the same name are `library`'s.

use sqlparser::ast::helpers::attached_token::AttachedToken;
use sqlparser::ast::{
    BinaryOperator, CaseWhen, Expr, Function, FunctionArguments, Ident, ObjectName, Value,
};

use super::super::catalog::{Lookup, index_column, lookup};
use super::super::sql::{args, call, function_name, number, parse_query, string};
use super::{aggregates, library, numeric, temporal};
use crate::RouterError;
use crate::infer::inference::schemaless_type;
use crate::plan::session::SessionContext;
use crate::types::PgType;

/// Functions that read or write files or load code on the server: Postgres' (refused to
/// non-superusers there too) and SQLite's (most are not even compiled in; refused by name
/// so the answer is the same whatever the build).
const FILE_FUNCTIONS: &[&str] = &[
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "pg_stat_file",
    "pg_file_write",
    "lo_import",
    "lo_export",
    "load_extension",
    "readfile",
    "writefile",
    "edit",
    "fsdir",
    "fts3_tokenizer",
];

/// A call rewritten for SQLite; `None` when SQLite has the function as Postgres does.
pub(super) fn rewrite_call(
    f: &Function,
    ctx: &SessionContext,
) -> Result<Option<Expr>, RouterError> {
    let name = function_name(f);
    if let Some(name) = name.as_deref()
        && FILE_FUNCTIONS.contains(&name)
    {
        return Err(RouterError::forbidden(&format!(
            "{name}() reaches files on the server"
        )));
    }
    let a = args(f);
    if let Some(name) = name.as_deref() {
        if let Some(dated) = temporal::rewrite_call(name, f)? {
            return Ok(Some(dated));
        }
        if let Some(interval_aggregate) = temporal::aggregate(name, &a) {
            return Ok(Some(renamed(f, interval_aggregate)));
        }
        if let Some(aggregate) = aggregates::rewrite(name, f, &a)? {
            return Ok(Some(aggregate));
        }
        if let Some(exact) = numeric::call_of(name, f, &a) {
            return Ok(Some(exact));
        }
    }
    match name.as_deref() {
        Some(name) => match library::rewrite(name, &a)? {
            Some(translated) => Ok(Some(translated)),
            None => Ok(rewrite_function(f, ctx)),
        },
        None => Ok(rewrite_function(f, ctx)),
    }
}

/// The first schema of the search path.
fn current_schema(ctx: &SessionContext) -> Expr {
    string(ctx.search_path.first().map_or("public", String::as_str))
}

/// SQL's function-like syntax: `current_schema` without parentheses, TRIM, POSITION and
/// SUBSTRING (by position, or by regular expression), as SQLite's functions.
pub(super) fn special_form(expr: &Expr, ctx: &SessionContext) -> Option<Expr> {
    match expr {
        Expr::Identifier(i) if i.quote_style.is_none() && i.value == "current_schema" => {
            Some(current_schema(ctx))
        }
        // TRIM([BOTH|LEADING|TRAILING] [chars] FROM s) → trim/ltrim/rtrim(s, chars).
        Expr::Trim {
            trim_where,
            trim_what,
            expr: target,
            trim_characters,
        } => {
            use sqlparser::ast::TrimWhereField as W;
            let function = match trim_where {
                Some(W::Leading) => "ltrim",
                Some(W::Trailing) => "rtrim",
                _ => "trim",
            };
            let mut a = vec![(**target).clone()];
            if let Some(what) = trim_what {
                a.push((**what).clone());
            } else if let Some(chars) = trim_characters.as_ref().and_then(|c| c.first()) {
                a.push(chars.clone());
            }
            Some(call(function, a))
        }
        Expr::Position { expr: needle, r#in } => {
            Some(call("instr", vec![(**r#in).clone(), (**needle).clone()]))
        }
        // A text start is a regular expression: the part of the text it matches.
        Expr::Substring {
            expr: s,
            substring_from: Some(pattern),
            substring_for: None,
            ..
        } if matches!(
            pattern.as_ref(),
            Expr::Value(v) if matches!(v.value, Value::SingleQuotedString(_))
        ) || schemaless_type(pattern) == Some(PgType::Text) =>
        {
            Some(call(
                "pg_regex_substr",
                vec![(**s).clone(), (**pattern).clone()],
            ))
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
            // SQLite counts a negative start from the end and a negative length backwards.
            Some(call("pg_substr", a))
        }
        _ => None,
    }
}

/// `ARRAY(SELECT x ...)` as Postgres' array text `{a,b}`.
fn array_of(query: &sqlparser::ast::Query) -> Expr {
    let mut inner = Box::new(query.clone());
    if let sqlparser::ast::SetExpr::Select(select) = inner.body.as_mut()
        && let Some(first) = select.projection.first_mut()
        && let sqlparser::ast::SelectItem::UnnamedExpr(e)
        | sqlparser::ast::SelectItem::ExprWithAlias { expr: e, .. } = first
    {
        *first = sqlparser::ast::SelectItem::ExprWithAlias {
            expr: e.clone(),
            alias: Ident::new("ls_element"),
        };
    }
    let sql = "SELECT coalesce(pg_array_agg(ls_element), '{}') FROM (SELECT 1) AS ls_array";
    let Some(mut outer) = parse_query(sql) else {
        return Expr::value(Value::Null);
    };
    if let sqlparser::ast::SetExpr::Select(select) = outer.body.as_mut()
        && let Some(sqlparser::ast::TableFactor::Derived { subquery, .. }) =
            select.from.first_mut().map(|t| &mut t.relation)
    {
        *subquery = inner;
    }
    Expr::Subquery(outer)
}

fn rewrite_function(f: &Function, ctx: &SessionContext) -> Option<Expr> {
    let name = function_name(f)?;
    if name == "array"
        && let FunctionArguments::Subquery(q) = &f.args
    {
        return Some(array_of(q));
    }
    if name == "array_agg" {
        // Keep the arguments and any ORDER BY inside the call; SQLite takes both.
        let mut agg = f.clone();
        agg.name = ObjectName::from(vec![Ident::new("pg_array_agg")]);
        return Some(Expr::Function(agg));
    }
    let a = args(f);
    // `nextval('s'::regclass)`: the shard's sequence functions take the name, as a column
    // DEFAULT must hold it (SQLite refuses a subquery, the regclass lookup, there).
    if matches!(name.as_str(), "nextval" | "setval")
        && let Some(Expr::Cast {
            expr: sequence,
            data_type: sqlparser::ast::DataType::Regclass,
            ..
        }) = a.first()
    {
        let mut named = a.clone();
        named[0] = sequence.as_ref().clone();
        return Some(call(&name, named));
    }
    Some(match (name.as_str(), a.len()) {
        ("pg_get_indexdef", 1) => lookup(Lookup::IndexDef, a[0].clone()),
        // With a column number above 0 it gives that index column, not the whole index.
        ("pg_get_indexdef", 2 | 3) => Expr::Case {
            case_token: sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
            end_token: sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
            operand: None,
            conditions: vec![sqlparser::ast::CaseWhen {
                condition: Expr::BinaryOp {
                    left: Box::new(a[1].clone()),
                    op: BinaryOperator::Eq,
                    right: Box::new(number(0)),
                },
                result: lookup(Lookup::IndexDef, a[0].clone()),
            }],
            else_result: Some(Box::new(index_column(a[0].clone(), a[1].clone()))),
        },
        ("pg_get_constraintdef", 1) => lookup(Lookup::ConstraintDef, a[0].clone()),
        // The pretty form drops the parentheses around a CHECK's expression.
        ("pg_get_constraintdef", 2) => call(
            "pg_constraintdef_pretty",
            vec![lookup(Lookup::ConstraintDef, a[0].clone()), a[1].clone()],
        ),
        ("pg_get_viewdef", 1 | 2) => lookup(Lookup::ViewDef, a[0].clone()),
        ("to_regclass", 1) => lookup(Lookup::OidByName, a[0].clone()),
        // There are no partitions: a relation is its own only ancestor and root.
        ("pg_partition_ancestors" | "pg_partition_root", 1) => a[0].clone(),
        // uuid-ossp's random UUID is Postgres' own.
        ("uuid_generate_v4", 0) => call("gen_random_uuid", vec![]),
        ("now" | "transaction_timestamp" | "statement_timestamp" | "clock_timestamp", 0) => {
            temporal::now()
        }
        ("current_timestamp", 0) if matches!(f.args, FunctionArguments::None) => temporal::now(),
        // The clock and calendar in the session's zone, which the shard's casts of an
        // instant apply.
        ("localtimestamp", 0) => call("pg_timestamp", vec![temporal::now()]),
        ("current_date", 0) if matches!(f.args, FunctionArguments::None) => {
            call("pg_date", vec![temporal::now()])
        }
        ("localtime", 0) if matches!(f.args, FunctionArguments::None) => {
            call("pg_time", vec![temporal::now()])
        }
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
        ("current_schema", 0) => current_schema(ctx),
        // The search path: `public`, and pg_catalog before it when asked for implicit ones.
        ("current_schemas", 1) => {
            let path = ctx.search_path.join(",");
            Expr::Case {
                case_token: AttachedToken::empty(),
                end_token: AttachedToken::empty(),
                operand: None,
                conditions: vec![CaseWhen {
                    condition: a[0].clone(),
                    result: string(&format!("{{pg_catalog,{path}}}")),
                }],
                else_result: Some(Box::new(string(&format!("{{{path}}}")))),
            }
        }
        // Visible: in a schema of the search path (the shard's function reads the list).
        ("pg_table_is_visible", 1) if ctx.searches_other_schemas() => call(
            "pg_table_is_visible",
            vec![a[0].clone(), string(&ctx.search_path.join(","))],
        ),
        ("pg_backend_pid", 0) => number(ctx.backend_pid),
        // Every partition's primary writes; replicas are litescale's, not a standby's.
        ("pg_is_in_recovery", 0) => Expr::value(sqlparser::ast::Value::Boolean(false)),
        // Postgres' random() is uniform in [0, 1); SQLite's is a random 64-bit integer.
        ("random", 0) => Expr::Nested(Box::new(Expr::BinaryOp {
            left: Box::new(call("abs", vec![call("random", vec![])])),
            op: BinaryOperator::Divide,
            right: Box::new(number("9223372036854775808.0")),
        })),
        ("strpos", 2) => call("instr", a),
        ("string_agg", 2) => renamed(f, "group_concat"),
        // Booleans are 0/1 in SQLite: all-true is the minimum, any-true the maximum.
        ("bool_and" | "every", 1) => renamed(f, "min"),
        ("bool_or", 1) => renamed(f, "max"),
        // A character(n) value's trailing blanks are padding, which its length leaves out.
        ("length" | "char_length" | "character_length", 1)
            if schemaless_type(&a[0]) == Some(PgType::Bpchar) =>
        {
            call(
                "length",
                vec![call("rtrim", vec![a[0].clone(), string(" ")])],
            )
        }
        ("char_length" | "character_length", 1) => call("length", a),
        _ => return None,
    })
}

/// An aggregate under SQLite's name, keeping what the client gave the call: DISTINCT,
/// ORDER BY, FILTER and OVER.
fn renamed(f: &Function, name: &str) -> Expr {
    Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        ..f.clone()
    })
}

#[cfg(test)]
mod tests {
    use crate::test_support::sql;

    #[test]
    fn session_functions_answer_from_the_session() {
        assert_eq!(
            sql("select current_database(), current_user, pg_backend_pid(), current_schema()"),
            "SELECT 'shop' AS \"current_database\", 'ann' AS \"current_user\", \
             42 AS \"pg_backend_pid\", 'public' AS \"current_schema\""
        );
    }
}
