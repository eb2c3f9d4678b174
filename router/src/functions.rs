//! Postgres functions and operators SQLite lacks or spells differently, rewritten into
//! SQLite expressions with the same result.

use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList,
    FunctionArguments, Ident, ObjectName, Statement, Value, visit_expressions_mut,
};

use crate::{PgType, RouterError};

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
        vec![string("%Y-%m-%d %H:%M:%f+00:00"), string("now")],
    )
}

/// `(array, index)` of `root.field[index]`.
fn subscripted(root: &Expr, chain: &[sqlparser::ast::AccessExpr]) -> Option<(Expr, Expr)> {
    use sqlparser::ast::{AccessExpr, Subscript};
    let (AccessExpr::Subscript(Subscript::Index { index }), path) = chain.split_last()? else {
        return None;
    };
    let array = if path.is_empty() {
        root.clone()
    } else {
        let Expr::Identifier(first) = root else {
            return None;
        };
        let mut parts = vec![first.clone()];
        for step in path {
            let AccessExpr::Dot(Expr::Identifier(i)) = step else {
                return None;
            };
            parts.push(i.clone());
        }
        Expr::CompoundIdentifier(parts)
    };
    Some((array, index.clone()))
}

fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Nested(inner) => strip(inner),
        other => other,
    }
}

fn is_temporal(e: &Expr) -> bool {
    matches!(
        crate::infer::schemaless_type(e),
        Some(PgType::Date | PgType::Timestamp | PgType::Timestamptz | PgType::Time)
    )
}

fn significant_digits(number: &str) -> usize {
    let mantissa = number.split(['e', 'E']).next().unwrap_or(number);
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    digits.trim_start_matches('0').trim_end_matches('0').len()
}

fn last_name(f: &Function) -> Option<String> {
    Some(f.name.0.last()?.as_ident()?.value.to_ascii_lowercase())
}

/// `(negated, case-insensitive)` of a regular-expression match operator.
fn regex_flags(op: &BinaryOperator) -> Option<(bool, bool)> {
    Some(match op {
        BinaryOperator::PGRegexMatch => (false, false),
        BinaryOperator::PGRegexIMatch => (false, true),
        BinaryOperator::PGRegexNotMatch => (true, false),
        BinaryOperator::PGRegexNotIMatch => (true, true),
        BinaryOperator::PGCustomBinaryOperator(parts) => match parts.last()?.as_str() {
            "~" => (false, false),
            "~*" => (false, true),
            "!~" => (true, false),
            "!~*" => (true, true),
            _ => return None,
        },
        _ => return None,
    })
}

/// `(SELECT column FROM view WHERE key = arg)`: catalog "deparse" functions read the text
/// the catalog views keep.
/// The catalog's lookup views (`ls_key`, `ls_value`); their column names are unlike any
/// catalog column, so a bare `oid` in the argument still names the outer query's column.
pub(crate) enum Lookup {
    IndexDef,
    ConstraintDef,
    ViewDef,
    OidByName,
    NameByOid,
}

pub(crate) fn lookup(which: Lookup, arg: Expr) -> Expr {
    let view = match which {
        Lookup::IndexDef => "ls_index_def",
        Lookup::ConstraintDef => "ls_constraint_def",
        Lookup::ViewDef => "ls_view_def",
        Lookup::OidByName => "ls_oid_by_name",
        Lookup::NameByOid => "ls_name_by_oid",
    };
    let Some(mut query) =
        crate::parse_query(&format!("SELECT ls_value FROM {view} WHERE ls_key = 0"))
    else {
        return arg;
    };
    if let sqlparser::ast::SetExpr::Select(select) = query.body.as_mut()
        && let Some(Expr::BinaryOp { right, .. }) = select.selection.as_mut()
    {
        **right = arg;
    }
    Expr::Subquery(query)
}

/// The name of column `position` (from 1) of index `index`.
fn index_column(index: Expr, position: Expr) -> Expr {
    let sql = "SELECT ls_value FROM ls_index_column WHERE ls_key = 0 AND ls_position = 0";
    let Some(mut query) = crate::parse_query(sql) else {
        return Expr::value(Value::Null);
    };
    if let sqlparser::ast::SetExpr::Select(select) = query.body.as_mut()
        && let Some(Expr::BinaryOp { left, right, .. }) = select.selection.as_mut()
    {
        if let Expr::BinaryOp { right: key, .. } = left.as_mut() {
            **key = index;
        }
        if let Expr::BinaryOp { right: pos, .. } = right.as_mut() {
            **pos = position;
        }
    }
    Expr::Subquery(query)
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
    let Some(mut outer) = crate::parse_query(sql) else {
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

/// `extract(field from x)` / `date_part('field', x)` with SQLite's strftime.
fn date_part(field: &str, x: Expr) -> Result<Expr, RouterError> {
    let part = |format: &str, cast: &str| {
        let formatted = call("strftime", vec![string(format), x.clone()]);
        Ok(Expr::Cast {
            kind: sqlparser::ast::CastKind::Cast,
            expr: Box::new(formatted),
            data_type: if cast == "INTEGER" {
                sqlparser::ast::DataType::Integer(None)
            } else {
                sqlparser::ast::DataType::Real
            },
            format: None,
        })
    };
    match field
        .to_ascii_lowercase()
        .trim_matches('\'')
        .trim_end_matches('s')
    {
        "year" => part("%Y", "INTEGER"),
        "month" => part("%m", "INTEGER"),
        "day" => part("%d", "INTEGER"),
        "hour" => part("%H", "INTEGER"),
        "minute" => part("%M", "INTEGER"),
        "second" => part("%f", "REAL"),
        "dow" => part("%w", "INTEGER"),
        "doy" => part("%j", "INTEGER"),
        "epoch" => part("%s", "INTEGER"),
        other => Err(RouterError {
            sqlstate: "0A000",
            message: format!("date field \"{other}\" is not supported by litescale"),
        }),
    }
}

/// `date_trunc('unit', x)` as the strftime format that keeps the fields down to `unit`.
fn date_trunc(unit: &str, x: Expr) -> Result<Expr, RouterError> {
    let format = match unit.to_ascii_lowercase().as_str() {
        "year" => "%Y-01-01 00:00:00",
        "month" => "%Y-%m-01 00:00:00",
        "day" => "%Y-%m-%d 00:00:00",
        "hour" => "%Y-%m-%d %H:00:00",
        "minute" => "%Y-%m-%d %H:%M:00",
        "second" => "%Y-%m-%d %H:%M:%S",
        other => {
            return Err(RouterError {
                sqlstate: "0A000",
                message: format!("date_trunc unit \"{other}\" is not supported by litescale"),
            });
        }
    };
    Ok(call("strftime", vec![string(format), x]))
}

/// SQLite date modifiers (`+1 days`, `-2 hours`) for an interval literal, with `sign`.
fn interval_modifiers(text: &str, sign: char) -> Result<Vec<Expr>, RouterError> {
    let unsupported = || RouterError {
        sqlstate: "0A000",
        message: format!("interval '{text}' in date arithmetic is not supported by litescale"),
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() || !words.len().is_multiple_of(2) {
        return Err(unsupported());
    }
    words
        .chunks(2)
        .map(|pair| {
            let n: f64 = pair[0].parse().map_err(|_| unsupported())?;
            let unit = pair[1].to_ascii_lowercase();
            let (n, unit) = match unit.trim_end_matches('s') {
                "year" => (n, "years"),
                "mon" | "month" => (n, "months"),
                "week" => (n * 7.0, "days"),
                "day" => (n, "days"),
                "hour" => (n, "hours"),
                "minute" | "min" => (n, "minutes"),
                "second" | "sec" => (n, "seconds"),
                _ => return Err(unsupported()),
            };
            let n = if sign == '-' { -n } else { n };
            Ok(string(&format!("{n:+} {unit}")))
        })
        .collect()
}

fn interval_text(e: &Expr) -> Option<String> {
    let Expr::Interval(interval) = e else {
        return None;
    };
    let Expr::Value(v) = interval.value.as_ref() else {
        return None;
    };
    let Value::SingleQuotedString(s) = &v.value else {
        return None;
    };
    Some(match &interval.leading_field {
        Some(field) => format!("{s} {field}"),
        None => s.clone(),
    })
}

fn rewrite_function(f: &Function, ctx: &SessionContext) -> Option<Expr> {
    let name = f.name.0.last()?.as_ident()?.value.to_ascii_lowercase();
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
        ("pg_get_constraintdef", 1 | 2) => lookup(Lookup::ConstraintDef, a[0].clone()),
        ("pg_get_viewdef", 1 | 2) => lookup(Lookup::ViewDef, a[0].clone()),
        ("to_regclass", 1) => lookup(Lookup::OidByName, a[0].clone()),
        // There are no partitions: a relation is its own only ancestor and root.
        ("pg_partition_ancestors" | "pg_partition_root", 1) => a[0].clone(),
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
        ("string_agg", 2) => call("group_concat", a),
        // Booleans are 0/1 in SQLite: all-true is the minimum, any-true the maximum.
        ("bool_and" | "every", 1) => call("min", a),
        ("bool_or", 1) => call("max", a),
        ("json_build_object" | "jsonb_build_object", _) => call("json_object", a),
        ("json_build_array" | "jsonb_build_array", _) => call("json_array", a),
        ("json_agg" | "jsonb_agg", 1) => call("json_group_array", a),
        ("json_object_agg" | "jsonb_object_agg", 2) => call("json_group_object", a),
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

pub(crate) fn rewrite(ast: &mut Statement, ctx: &SessionContext) -> Result<(), RouterError> {
    let flow = visit_expressions_mut(ast, |expr| {
        let replacement = match expr {
            Expr::Function(f)
                if last_name(f).is_some_and(|n| FILE_FUNCTIONS.contains(&n.as_str())) =>
            {
                return ControlFlow::Break(RouterError::forbidden(&format!(
                    "{}() reaches files on the server",
                    last_name(f).unwrap_or_default()
                )));
            }
            // date + 1 means "the next day" in Postgres but "2025" in SQLite.
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Plus | BinaryOperator::Minus,
                right,
            } if (is_temporal(left) || is_temporal(right))
                && interval_text(left).is_none()
                && interval_text(right).is_none() =>
            {
                return ControlFlow::Break(RouterError {
                    sqlstate: "0A000",
                    message: "date arithmetic other than ± interval is not supported by litescale"
                        .to_owned(),
                });
            }
            Expr::Function(f)
                if matches!(last_name(f).as_deref(), Some("date_part" | "date_trunc"))
                    && args(f).len() == 2 =>
            {
                let a = args(f);
                let Expr::Value(v) = &a[0] else {
                    return ControlFlow::Continue(());
                };
                let Value::SingleQuotedString(field) = &v.value else {
                    return ControlFlow::Continue(());
                };
                let result = if last_name(f).as_deref() == Some("date_part") {
                    date_part(field, a[1].clone())
                } else {
                    date_trunc(field, a[1].clone())
                };
                match result {
                    Ok(e) => Some(e),
                    Err(e) => return ControlFlow::Break(e),
                }
            }
            Expr::Function(f) => rewrite_function(f, ctx),
            Expr::Identifier(i) if i.quote_style.is_none() && i.value == "current_schema" => {
                Some(string("public"))
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
            Expr::Collate { expr: inner, .. } => Some((**inner).clone()),
            // `(keys).x`: the only composites are _pg_expandarray's, which stand for their
            // element (see the set-returning function rewrite).
            Expr::CompoundFieldAccess { root, access_chain }
                if matches!(
                    access_chain.as_slice(),
                    [sqlparser::ast::AccessExpr::Dot(Expr::Identifier(f))] if f.value == "x"
                ) && !matches!(strip(root), Expr::Function(_)) =>
            {
                Some((**root).clone())
            }
            // `a[i]` (also `t.a[i]`) on an array kept as text `{x,y}`.
            Expr::CompoundFieldAccess { root, access_chain } => subscripted(root, access_chain)
                .map(|(array, index)| call("pg_array_get", vec![array, index])),
            // `x = ANY(ARRAY[a, b])` is `x IN (a, b)`; against an array value (text such as
            // `{1,2}`), SQLite asks pg_array_contains.
            Expr::AnyOp {
                left,
                compare_op: BinaryOperator::Eq,
                right,
                ..
            } => Some(match right.as_ref() {
                Expr::Array(array) => Expr::In {
                    expr: left.clone(),
                    target: sqlparser::ast::InTarget::List(array.elem.clone()),
                    negated: false,
                    global: false,
                },
                other => call("pg_array_contains", vec![other.clone(), (**left).clone()]),
            }),
            Expr::AnyOp { .. } | Expr::AllOp { .. } => {
                return ControlFlow::Break(RouterError {
                    sqlstate: "0A000",
                    message: "ANY/ALL with an operator other than = is not supported by litescale"
                        .to_owned(),
                });
            }
            Expr::BinaryOp { left, op, right } if regex_flags(op).is_some() => {
                let (negated, insensitive) = regex_flags(op).unwrap_or_default();
                let test = call(
                    "pg_regex",
                    vec![
                        (**left).clone(),
                        (**right).clone(),
                        number(insensitive as u8),
                    ],
                );
                Some(if negated {
                    Expr::UnaryOp {
                        op: sqlparser::ast::UnaryOperator::Not,
                        expr: Box::new(test),
                    }
                } else {
                    test
                })
            }
            Expr::Value(v) => match &v.value {
                // E'...' was unescaped by the tokenizer; SQLite takes the plain string, as
                // it does for $$...$$ bodies.
                Value::EscapedStringLiteral(s) => Some(string(s)),
                Value::DollarQuotedString(d) => Some(string(&d.value)),
                // SQLite keeps numbers as 64-bit integers or 8-byte floats: a literal it
                // cannot hold exactly is refused rather than rounded.
                Value::Number(n, _) if n.parse::<i64>().is_err() && significant_digits(n) > 15 => {
                    return ControlFlow::Break(RouterError {
                        sqlstate: "22003",
                        message: format!(
                            "numeric value {n} has more than 15 significant digits, which litescale cannot store exactly"
                        ),
                    });
                }
                _ => None,
            },
            Expr::Extract { field, expr: x, .. } => {
                match date_part(&field.to_string(), (**x).clone()) {
                    Ok(e) => Some(e),
                    Err(e) => return ControlFlow::Break(e),
                }
            }
            // timestamp ± interval 'n unit' → strftime with SQLite's date modifiers.
            Expr::BinaryOp {
                left,
                op: op @ (BinaryOperator::Plus | BinaryOperator::Minus),
                right,
            } if interval_text(right).is_some()
                || (*op == BinaryOperator::Plus && interval_text(left).is_some()) =>
            {
                let (base, text) = match interval_text(right) {
                    Some(t) => ((**left).clone(), t),
                    None => ((**right).clone(), interval_text(left).unwrap_or_default()),
                };
                let sign = if *op == BinaryOperator::Minus {
                    '-'
                } else {
                    '+'
                };
                match interval_modifiers(&text, sign) {
                    Ok(modifiers) => {
                        let mut a = vec![string("%Y-%m-%d %H:%M:%f"), base];
                        a.extend(modifiers);
                        Some(call("strftime", a))
                    }
                    Err(e) => return ControlFlow::Break(e),
                }
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
    fn escaped_and_dollar_quoted_strings_become_plain_strings() {
        assert_eq!(
            sql("select E'a\\nb', $$it's$$, $x$y$x$"),
            "SELECT 'a\nb' AS \"?column?\", 'it''s' AS \"?column?\", 'y' AS \"?column?\""
        );
    }

    #[test]
    fn numbers_sqlite_cannot_hold_exactly_are_refused() {
        assert!(plan_in("select 123456789012345678", &SessionContext::default()).is_ok());
        assert!(plan_in("select 3.14159265358979", &SessionContext::default()).is_ok());
        let e = plan_in("select 3.14159265358979323846", &SessionContext::default()).unwrap_err();
        assert_eq!(e.sqlstate, "22003");
        assert!(plan_in("select 1e300", &SessionContext::default()).is_ok());
        let e = plan_in("select current_date + 1", &SessionContext::default()).unwrap_err();
        assert_eq!(e.sqlstate, "0A000");
        assert!(
            plan_in(
                "select current_date + interval '1 day'",
                &SessionContext::default()
            )
            .is_ok()
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
