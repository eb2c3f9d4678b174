//! Numeric expressions as Postgres computes them: exactly, with numeric's result scales,
//! in the shard's numeric functions (shard/src/engine/sql/numeric/) where SQLite would
//! compute in doubles. A numeric expression becomes `pg_num_value(<numeric text>)`: the
//! SQLite number nearest it, which comparisons, sorting and storage see. Other numeric functions take
//! the text inside (so `1.10 * 2.5` keeps its scale through `round(..., 2)`), and the
//! outermost select list answers it (see [`answer_exactly`]).

use sqlparser::ast::{
    BinaryOperator as B, DataType, ExactNumberInfo, Expr, Function, OrderByKind, Query, SelectItem,
    SetExpr, Statement, UnaryOperator, Value,
};

use super::super::sql::{
    args, call, for_each_answered_item, function_name, number, renamed_call, string, strip_nesting,
};
use crate::RouterError;
use crate::infer::inference::schemaless_type;
use crate::types::PgType;

/// The function that makes a computed numeric's text the nearest SQLite number.
const VALUE: &str = "pg_num_value";
/// The function that makes a written numeric's text an equal SQLite number, or 22003.
const EXACT: &str = "pg_num_exact";

pub(super) fn value(numeric_text: Expr) -> Expr {
    call(VALUE, vec![numeric_text])
}

/// The numeric text inside `pg_num_value(...)` or `pg_num_exact(...)`, if `e` is one.
fn wrapped(e: &Expr) -> Option<Expr> {
    match strip_nesting(e) {
        Expr::Function(f) if matches!(function_name(f).as_deref(), Some(VALUE | EXACT)) => {
            match args(f).as_slice() {
                [inner] => Some(inner.clone()),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A number literal's digits, as written.
fn literal_digits(e: &Expr) -> Option<&str> {
    match strip_nesting(e) {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => Some(n),
            _ => None,
        },
        _ => None,
    }
}

/// What a numeric function takes for `e`: the numeric text of a numeric expression, a
/// number literal as written (`1.50` keeps its scale), else `e` itself.
pub(super) fn numeric_text(e: &Expr) -> Expr {
    if let Some(inner) = wrapped(e) {
        return inner;
    }
    match literal_digits(e) {
        Some(digits) => string(digits),
        None => e.clone(),
    }
}

/// A numeric's text form where it is known exactly (a numeric expression or literal), for
/// `||`, which concatenates Postgres' output form (`'a' || 1.50` is `a1.50`).
pub(super) fn text_form(e: &Expr) -> Option<Expr> {
    (wrapped(e).is_some() || (literal_digits(e).is_some() && is_numeric(e)))
        .then(|| numeric_text(e))
}

fn is_numeric(e: &Expr) -> bool {
    schemaless_type(e) == Some(PgType::Numeric)
}

/// A side that numeric arithmetic takes as Postgres would: a numeric, an integer, or a
/// value whose type only the table settles (a column: numeric columns hold numbers).
pub(super) fn combines_with_numeric(e: &Expr) -> bool {
    matches!(
        schemaless_type(e),
        None | Some(PgType::Numeric | PgType::Int2 | PgType::Int4 | PgType::Int8)
    )
}

/// `numeric(p, s)`'s precision and scale; `None` for plain numeric.
fn typmod(data_type: &DataType) -> Option<Option<(u64, i64)>> {
    let info = match data_type {
        DataType::Numeric(info) | DataType::Decimal(info) | DataType::Dec(info) => info,
        _ => return None,
    };
    Some(match info {
        ExactNumberInfo::None => None,
        ExactNumberInfo::Precision(p) => Some((*p, 0)),
        ExactNumberInfo::PrecisionAndScale(p, s) => Some((*p, *s)),
    })
}

/// An expression rewritten to numeric's exact arithmetic; `None` when it is not numeric.
pub(super) fn rewrite(expr: &Expr) -> Result<Option<Expr>, RouterError> {
    Ok(match expr {
        // A numeric as text is its output form (`1.50`), not the SQLite number's.
        Expr::Cast {
            expr: inner,
            data_type: DataType::Text | DataType::Varchar(None) | DataType::CharacterVarying(None),
            ..
        } if wrapped(inner).is_some() => Some(numeric_text(inner)),
        Expr::Cast {
            expr: inner,
            data_type,
            ..
        } => typmod(data_type).map(|typmod| {
            let mut a = vec![numeric_text(inner)];
            if let Some((precision, scale)) = typmod {
                a.extend([number(precision), number(scale)]);
            }
            value(call("pg_numeric", a))
        }),
        Expr::BinaryOp { left, op, right }
            if (is_numeric(left) && combines_with_numeric(right))
                || (is_numeric(right) && combines_with_numeric(left)) =>
        {
            let function = match op {
                B::Plus => "pg_num_add",
                B::Minus => "pg_num_sub",
                B::Multiply => "pg_num_mul",
                B::Divide => "pg_num_div",
                B::Modulo => "pg_num_mod",
                // Two numerics compare exactly (NaN, digits past a double's); a numeric
                // and a column compare as SQLite numbers.
                B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq
                    if (wrapped(left).is_some() || wrapped(right).is_some())
                        && schemaless_type(left).is_some()
                        && schemaless_type(right).is_some() =>
                {
                    return Ok(Some(Expr::BinaryOp {
                        left: Box::new(call(
                            "pg_num_cmp",
                            vec![numeric_text(left), numeric_text(right)],
                        )),
                        op: op.clone(),
                        right: Box::new(number(0)),
                    }));
                }
                _ => return Ok(None),
            };
            Some(value(call(
                function,
                vec![numeric_text(left), numeric_text(right)],
            )))
        }
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr: inner,
        } => wrapped(inner).map(|text| value(call("pg_num_neg", vec![text]))),
        _ => None,
    })
}

/// `sum`, `avg`, `round`, `trunc`, `factorial`, `log(b, x)` and the scale functions of numbers
/// computed as numeric: exactly, with Postgres' scales. `None` for other calls, and for floats (which Postgres sums and
/// rounds as doubles).
pub(super) fn call_of(name: &str, f: &Function, args: &[Expr]) -> Option<Expr> {
    // The arguments, and whether the answer is a numeric (else an integer).
    let (numeric_args, answers_numeric) = match (name, args) {
        ("sum" | "avg", [x]) if combines_with_numeric(x) => (vec![numeric_text(x)], true),
        ("round" | "trunc", [x, places]) => (vec![numeric_text(x), places.clone()], true),
        ("round" | "trunc", [x]) if is_numeric(x) => (vec![numeric_text(x)], true),
        ("trim_scale", [x]) => (vec![numeric_text(x)], true),
        // Postgres has log(b, x) for numerics only (the typed pass refuses floats: 42883).
        ("log", [base, x]) => (vec![numeric_text(base), numeric_text(x)], true),
        ("factorial", [x]) => (vec![x.clone()], true),
        ("scale" | "min_scale", [x]) => (vec![numeric_text(x)], false),
        _ => return None,
    };
    let numeric_call = renamed_call(f, &format!("pg_num_{name}"), numeric_args);
    Some(if answers_numeric {
        value(numeric_call)
    } else {
        numeric_call
    })
}

/// The value `pg_single_row(count, value)` passes through (see translate/query.rs).
fn single_row_value(e: &mut Expr) -> Option<&mut Expr> {
    let Expr::Function(f) = e else {
        return None;
    };
    if function_name(f).as_deref() != Some("pg_single_row") {
        return None;
    }
    match &mut f.args {
        sqlparser::ast::FunctionArguments::List(list) => match list.args.get_mut(1)? {
            sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(v)) => {
                Some(v)
            }
            _ => None,
        },
        _ => None,
    }
}

/// A numeric literal SQLite cannot hold exactly (past 15 significant digits, or an
/// integer past bigint) as a numeric: exact where it is answered or computed with, 22003
/// where SQLite would have to compare or store it.
pub(super) fn wide_literal(digits: &str) -> Expr {
    call(EXACT, vec![string(digits)])
}

/// The outermost select list answers numerics as their text, so `SELECT 1.10 * 2.5`
/// answers `2.750` and `SELECT avg(x)` Postgres' digits. Only where nothing reads the
/// column after it is computed: not under DISTINCT or a set operation, and not a column
/// that ORDER BY or GROUP BY names by position or alias (those compare the values).
pub(super) fn answer_exactly(ast: &mut Statement) {
    if let Statement::Query(query) = ast {
        answer_query_exactly(query);
    }
}

/// ORDER BY naming a numeric item by alias or position (`ORDER BY s`, `ORDER BY 1`) sorts
/// by a copy of the item's value instead, so that the item may answer its text (SQLite
/// would sort the texts).
fn sort_by_values(query: &mut Query) {
    let (Some(order), SetExpr::Select(select)) = (&mut query.order_by, query.body.as_ref()) else {
        return;
    };
    let OrderByKind::Expressions(keys) = &mut order.kind else {
        return;
    };
    if select.distinct.is_some() {
        return;
    }
    for key in keys.iter_mut() {
        let named = match strip_nesting(&key.expr) {
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => n
                    .parse::<usize>()
                    .ok()
                    .and_then(|p| p.checked_sub(1))
                    .and_then(|i| select.projection.get(i)),
                _ => None,
            },
            Expr::Identifier(name) => select.projection.iter().find(
                |item| matches!(item, SelectItem::ExprWithAlias { alias, .. } if alias.value == name.value),
            ),
            _ => None,
        };
        if let Some(SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) = named
            && wrapped(e).is_some()
        {
            key.expr = e.clone();
        }
    }
}

/// [`answer_exactly`] for a query, and for the scalar subqueries its select list answers
/// (`(SELECT avg(x) FROM t) AS mean`).
fn answer_query_exactly(query: &mut Query) {
    sort_by_values(query);
    for_each_answered_item(query, &mut |expr| {
        if let Expr::Subquery(scalar) = expr {
            answer_query_exactly(scalar);
        } else if let Some(value) = single_row_value(expr) {
            // A scalar subquery's value passes through the count of its rows.
            if let Some(text) = wrapped(value) {
                *value = text;
            }
        } else if let Some(text) = wrapped(expr) {
            *expr = text;
        } else if let Some(digits) = literal_digits(expr)
            && schemaless_type(expr) == Some(PgType::Numeric)
        {
            // Through numeric's input, which writes `1e3` as `1000`.
            *expr = call("pg_numeric", vec![string(digits)]);
        }
    });
}
