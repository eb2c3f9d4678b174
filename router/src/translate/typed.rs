//! Postgres' implicit typing made explicit where a column's type changes the translation,
//! before the expression passes run: `pg_typeof(x)` becomes the name of `x`'s type, a
//! quoted string compared with a boolean, uuid, bytea, date, timestamp, timestamptz or
//! interval column becomes a cast to that type (SQLite would compare it as text), a date,
//! timestamp or timestamptz compared with another of those kinds (or beside one in
//! coalesce, greatest or least) is cast to the later kind, a time column times or divided
//! by a number is cast to its type (it scales as an interval), and an interval column
//! compared with an interval to its type (by length), a numeric or interval column inside
//! arithmetic, sum, avg, round and trunc, or under min and max,
//! becomes a cast to its declared type (so numeric's exact functions compute it with its
//! scale, and intervals as intervals), and a boolean, numeric, interval or timestamptz
//! column cast to text or concatenated is cast to its type first (so it is written in its
//! output form); an interval column sorts by its length;
//! and an array column beside `||`, in `ARRAY[...]` or aggregated by array_agg is cast to
//! its array type (so it is taken as the array it is).
//!
//! Without the schema the pass still settles what the statement alone types, and tells
//! whether a column it met would need the tables' columns (the caller plans again with
//! them).

use sqlparser::ast::{
    ArrayElemTypeDef, BinaryOperator as B, CastKind, DataType, ExactNumberInfo, Expr, FunctionArg,
    FunctionArgExpr, FunctionArguments, InTarget, Statement, TimezoneInfo, UnaryOperator, Value,
};

use super::sql::{call, function_name, is_aggregate, number, string, strip_nesting};
use crate::RouterError;
use crate::infer::inference::schemaless_type;
use crate::infer::inference::{Typing, rewrite_typed};
use crate::infer::schema::{Schema, last_part};
use crate::infer::temporal::is_number;
use crate::types::{PgType, catalog_of_declared, format_type};

/// Rewrites `ast` with the types `schema` gives its columns; answers whether a column whose
/// type it did not know stood where its type would change the translation.
/// Refuses what Postgres' type rules refuse (`1 + true`: 42883).
pub(super) fn make_types_explicit(
    ast: &mut Statement,
    schema: &dyn Schema,
) -> Result<bool, RouterError> {
    let mut asks = false;
    let mut refusal = None;
    rewrite_typed(ast, schema, |expr, typing| {
        if refusal.is_some() {
            return None;
        }
        match refused(expr, typing) {
            Ok(unknown_column) => asks |= unknown_column,
            Err(e) => {
                refusal = Some(e);
                return None;
            }
        }
        let (replacement, unknown_column) = explicit(expr, typing);
        asks |= unknown_column;
        replacement
    });
    match refusal {
        Some(e) => Err(e),
        None => Ok(asks),
    }
}

/// An INSERT's number written into a boolean column: Postgres has no assignment cast from
/// a number to boolean (42804). Answers whether a column's type was not known.
pub(super) fn check_inserted(ast: &Statement, schema: &dyn Schema) -> Result<bool, RouterError> {
    let Statement::Insert(insert) = ast else {
        return Ok(false);
    };
    let (sqlparser::ast::TableObject::TableName(name), Some(source)) =
        (&insert.table, &insert.source)
    else {
        return Ok(false);
    };
    let sqlparser::ast::SetExpr::Values(values) = source.body.as_ref() else {
        return Ok(false);
    };
    let table = last_part(name);
    let columns: Vec<String> = if insert.columns.is_empty() {
        schema.columns(&table)
    } else {
        insert.columns.iter().map(last_part).collect()
    };
    let mut asks = false;
    for row in &values.rows {
        for (i, value) in row.iter().enumerate() {
            if !matches!(strip_nesting(value), Expr::Value(v) if matches!(v.value, Value::Number(..)))
            {
                continue;
            }
            let column = columns.get(i);
            match column.and_then(|c| schema.column_type(&table, c)) {
                Some(PgType::Bool) => {
                    let written = schemaless_type(value).map_or("numeric".to_owned(), type_name);
                    return Err(RouterError {
                        sqlstate: "42804",
                        message: format!(
                            "column \"{}\" is of type boolean but expression is of type {written}",
                            column.map_or("", |c| c.as_str())
                        ),
                    });
                }
                Some(_) => {}
                None => asks = true,
            }
        }
    }
    Ok(asks)
}

/// Postgres' refusal of an operator or aggregate for its operands' types, where the scope
/// settles them: arithmetic with a boolean, arithmetic between two texts, min and max of
/// booleans (42883). Answers whether a column of unknown type stood there.
fn refused(expr: &Expr, typing: &Typing) -> Result<bool, RouterError> {
    let no_operator = |l: PgType, op: &B, r: PgType| RouterError {
        sqlstate: "42883",
        message: format!(
            "operator does not exist: {} {op} {}",
            type_name(l),
            type_name(r)
        ),
    };
    match expr {
        Expr::BinaryOp { left, op, right }
            if matches!(op, B::Multiply | B::Divide | B::Modulo)
                && [left, right]
                    .iter()
                    .any(|e| typing.type_of(e).is_some_and(is_temporal)) =>
        {
            scaled_datetime(left, op, right, typing)
        }
        Expr::BinaryOp { left, op, right }
            if matches!(op, B::Plus | B::Minus | B::Multiply | B::Divide | B::Modulo)
                && !is_untyped(left)
                && !is_untyped(right) =>
        {
            match (typing.type_of(left), typing.type_of(right)) {
                (Some(l), Some(r))
                    if l == PgType::Bool || r == PgType::Bool || (is_text(l) && is_text(r)) =>
                {
                    Err(no_operator(l, op, r))
                }
                (l, r) => Ok((l.is_none() && is_column(left)) || (r.is_none() && is_column(right))),
            }
        }
        // log(b, x) is numeric's alone: a double precision has no implicit cast to it.
        Expr::Function(f) if function_name(f).as_deref() == Some("log") => {
            let FunctionArguments::List(list) = &f.args else {
                return Ok(false);
            };
            let args: Vec<&Expr> = list
                .args
                .iter()
                .filter_map(|a| match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                    _ => None,
                })
                .collect();
            let types: Vec<Option<PgType>> = args.iter().map(|a| typing.type_of(a)).collect();
            if args.len() != 2 || args.len() != list.args.len() {
                return Ok(false);
            }
            if !types
                .iter()
                .any(|t| matches!(t, Some(PgType::Float4 | PgType::Float8)))
            {
                return Ok(args
                    .iter()
                    .zip(&types)
                    .any(|(a, t)| t.is_none() && is_column(a)));
            }
            let names: Vec<String> = args
                .iter()
                .zip(&types)
                .map(|(a, t)| match t {
                    Some(t) if !is_untyped(a) => type_name(*t),
                    _ => "unknown".to_owned(),
                })
                .collect();
            Err(RouterError {
                sqlstate: "42883",
                message: format!("function log({}) does not exist", names.join(", ")),
            })
        }
        Expr::Function(f) if matches!(function_name(f).as_deref(), Some("min" | "max")) => {
            match single_arg(&f.args).map(|a| (a, typing.type_of(a))) {
                Some((_, Some(PgType::Bool))) => Err(RouterError {
                    sqlstate: "42883",
                    message: format!(
                        "function {}(boolean) does not exist",
                        function_name(f).unwrap_or_default()
                    ),
                }),
                Some((arg, None)) => Ok(is_column(arg)),
                _ => Ok(false),
            }
        }
        _ => Ok(false),
    }
}

fn is_temporal(t: PgType) -> bool {
    matches!(
        t,
        PgType::Date | PgType::Time | PgType::Timestamp | PgType::Timestamptz | PgType::Interval
    )
}

/// `*`, `/` or `%` with a date, time or interval on a side: Postgres has only an interval
/// (or a time, which casts to one) times or divided by a number, and a number times an
/// interval; anything else is 42883 (`now() * interval '1 hour'`), where SQLite would
/// multiply the stored texts' numbers. A quoted string beside an interval reads as a
/// number, and so may a side the statement does not type (a parameter). Answers whether a
/// column of unknown type stood there (its type decides, and names the operator in the
/// error).
fn scaled_datetime(
    left: &Expr,
    op: &B,
    right: &Expr,
    typing: &Typing,
) -> Result<bool, RouterError> {
    let (l, r) = (typing.type_of(left), typing.type_of(right));
    let as_interval = |t: Option<PgType>| match t {
        Some(PgType::Time) => Some(PgType::Interval),
        other => other,
    };
    let may_be_number = |t: Option<PgType>, e: &Expr| match t {
        Some(t) => is_number(t) || is_quoted(e),
        None => true,
    };
    let exists = match (op, as_interval(l), as_interval(r)) {
        (B::Multiply | B::Divide, Some(PgType::Interval), _) => may_be_number(r, right),
        (B::Multiply, _, Some(PgType::Interval)) => may_be_number(l, left),
        _ => false,
    };
    let unknown_column = (l.is_none() && is_column(left)) || (r.is_none() && is_column(right));
    if exists || unknown_column {
        return Ok(unknown_column);
    }
    let name = |t: Option<PgType>, e: &Expr| match t {
        Some(t) if !is_untyped(e) => type_name(t),
        _ => "unknown".to_owned(),
    };
    Err(RouterError {
        sqlstate: "42883",
        message: format!(
            "operator does not exist: {} {op} {}",
            name(l, left),
            name(r, right)
        ),
    })
}

fn type_name(t: PgType) -> String {
    format_type(t.oid(), -1).unwrap_or_else(|| t.name().to_owned())
}

fn is_text(t: PgType) -> bool {
    matches!(t, PgType::Text | PgType::Varchar | PgType::Bpchar)
}

/// What `expr` becomes, and whether a column it holds was of unknown type where that
/// matters.
fn explicit(expr: &Expr, typing: &Typing) -> (Option<Expr>, bool) {
    // Intervals sort by their length, not their text.
    if typing.is_order_key() {
        match typed_column(expr, typing, &[PgType::Interval]) {
            Typed::Cast(c) => return (Some(call("pg_interval_key", vec![*c])), false),
            Typed::Unknown => return (None, true),
            Typed::Not => {}
        }
    }
    match expr {
        Expr::Function(f) if function_name(f).as_deref() == Some("pg_typeof") => {
            match single_arg(&f.args) {
                Some(arg) if !is_untyped(arg) => match typing.type_of(arg) {
                    Some(t) => (format_type(t.oid(), -1).map(|name| named(name, arg)), false),
                    None => (None, mentions_column(arg)),
                },
                _ => (None, false),
            }
        }
        Expr::Function(f) => match function_name(f).as_deref() {
            // A character(n) value's bytes include its blank padding, which SQLite does not
            // keep.
            Some("octet_length") => match single_arg(&f.args) {
                Some(arg) if is_column(arg) => {
                    match typing.declaration(arg).map(|d| catalog_of_declared(&d)) {
                        Some((oid, typmod)) if oid == PgType::Bpchar.oid() && typmod > 4 => {
                            let padded = call("rpad", vec![arg.clone(), number(typmod - 4)]);
                            (Some(with_first_arg(f, padded)), false)
                        }
                        Some(_) => (None, false),
                        None => (None, typing.type_of(arg).is_none()),
                    }
                }
                _ => (None, false),
            },
            // `row_to_json(t)`: the object of t's columns by name, where each is known to be
            // an integer, text or uuid, whose JSON SQLite writes as Postgres does (a
            // boolean would be 1/0, a numeric lose its scale, a timestamp its `T`).
            Some("row_to_json") => match single_arg(&f.args) {
                Some(Expr::Identifier(alias)) => match typing.columns_of(&alias.value) {
                    Some(columns)
                        if columns.iter().all(|(_, t)| {
                            matches!(
                                t,
                                Some(
                                    PgType::Int2
                                        | PgType::Int4
                                        | PgType::Int8
                                        | PgType::Text
                                        | PgType::Varchar
                                        | PgType::Uuid
                                )
                            )
                        }) =>
                    {
                        let members = columns
                            .into_iter()
                            .flat_map(|(name, _)| {
                                [
                                    string(&name),
                                    Expr::CompoundIdentifier(vec![
                                        alias.clone(),
                                        sqlparser::ast::Ident::with_quote('"', name),
                                    ]),
                                ]
                            })
                            .collect();
                        (Some(call("pg_json_row", members)), false)
                    }
                    Some(_) => (None, false),
                    None => (None, true),
                },
                _ => (None, false),
            },
            // Dates and times in JSON are ISO 8601 (`2024-03-15T06:20:30-04:00`), not the
            // stored form the JSON functions would take as text.
            Some(
                "to_json" | "to_jsonb" | "json_build_object" | "jsonb_build_object"
                | "json_build_array" | "jsonb_build_array" | "json_agg" | "jsonb_agg",
            ) => json_datetimes(f, typing),
            Some("coalesce" | "greatest" | "least") => datetime_arguments_aligned(f, typing),
            // string_agg of bytea concatenates bytes: its answer is a blob.
            Some("string_agg") => match single_or_first_arg(&f.args) {
                Some(arg) => match typing.type_of(arg) {
                    Some(PgType::Bytea) => (Some(call("pg_blob", vec![expr.clone()])), false),
                    Some(_) => (None, false),
                    None => (None, is_column(arg)),
                },
                None => (None, false),
            },
            Some("array_agg") => {
                match single_or_first_arg(&f.args).map(|a| array_column(a, typing)) {
                    Some(Typed::Cast(cast)) => (Some(with_first_arg(f, *cast)), false),
                    Some(Typed::Unknown) => (None, true),
                    _ => (None, false),
                }
            }
            Some(name @ ("sum" | "avg" | "round" | "trunc" | "min" | "max")) => {
                let Some(arg) = single_or_first_arg(&f.args) else {
                    return (None, false);
                };
                // A numeric(p,s) column's least and greatest show its scale.
                if matches!(name, "min" | "max") {
                    return match typed_column(arg, typing, &[PgType::Numeric, PgType::Interval]) {
                        Typed::Cast(cast)
                            if matches!(
                                *cast,
                                Expr::Cast {
                                    data_type: DataType::Numeric(
                                        ExactNumberInfo::PrecisionAndScale(..)
                                    ),
                                    ..
                                }
                            ) =>
                        {
                            let Expr::Cast { data_type, .. } = *cast else {
                                return (None, false);
                            };
                            (Some(cast_to(expr.clone(), data_type)), false)
                        }
                        Typed::Cast(cast)
                            if matches!(
                                *cast,
                                Expr::Cast {
                                    data_type: DataType::Interval { .. },
                                    ..
                                }
                            ) =>
                        {
                            (Some(with_first_arg(f, *cast)), false)
                        }
                        Typed::Unknown => (None, true),
                        _ => (None, false),
                    };
                }
                match typed_column(arg, typing, &[PgType::Numeric, PgType::Interval]) {
                    Typed::Cast(cast) => (Some(with_first_arg(f, *cast)), false),
                    Typed::Unknown => (None, true),
                    Typed::Not => (None, false),
                }
            }
            _ => (None, false),
        },
        // `ARRAY[a, b]` of array columns: an array of one more dimension.
        Expr::Array(array) => {
            let typed: Vec<Typed> = array.elem.iter().map(|e| array_column(e, typing)).collect();
            let asks = typed.iter().any(|t| matches!(t, Typed::Unknown));
            if !typed.iter().any(|t| matches!(t, Typed::Cast(_))) {
                return (None, asks);
            }
            let elem = typed
                .into_iter()
                .zip(&array.elem)
                .map(|(t, e)| match t {
                    Typed::Cast(c) => *c,
                    _ => e.clone(),
                })
                .collect();
            let named = array.named;
            (
                Some(Expr::Array(sqlparser::ast::Array { elem, named })),
                false,
            )
        }
        Expr::Between {
            expr: operand,
            negated,
            low,
            high,
        } => {
            let between = |operand: Expr, low: Expr, high: Expr| Expr::Between {
                expr: Box::new(operand),
                negated: *negated,
                low: Box::new(low),
                high: Box::new(high),
            };
            // Quoted bounds read as the operand's type, an interval column as an interval
            // (compared by length), as `compared` does for one bound.
            if is_quoted(low) || is_quoted(high) {
                return match literal_type_beside(operand, typing) {
                    Ok(Some(t)) => {
                        let bound = |e: &Expr| match is_quoted(e) {
                            true => cast_to(e.clone(), t.clone()),
                            false => e.clone(),
                        };
                        let operand = match typed_column(operand, typing, &[PgType::Interval]) {
                            Typed::Cast(c) => *c,
                            _ => (**operand).clone(),
                        };
                        (Some(between(operand, bound(low), bound(high))), false)
                    }
                    Ok(None) => (None, false),
                    Err(Unknown) => (None, true),
                };
            }
            match datetimes_aligned(&[operand, low, high], typing) {
                (Some(aligned), asks) => match <[Expr; 3]>::try_from(aligned) {
                    Ok([operand, low, high]) => (Some(between(operand, low, high)), asks),
                    Err(_) => (None, asks),
                },
                (None, asks) => (None, asks),
            }
        }
        Expr::In {
            expr: operand,
            target: InTarget::List(list),
            negated,
            global,
        } if !list.iter().any(is_quoted) => {
            let operands: Vec<&Expr> = std::iter::once(&**operand).chain(list).collect();
            match datetimes_aligned(&operands, typing) {
                (Some(mut aligned), asks) => {
                    let operand = aligned.remove(0);
                    (
                        Some(Expr::In {
                            expr: Box::new(operand),
                            target: InTarget::List(aligned),
                            negated: *negated,
                            global: *global,
                        }),
                        asks,
                    )
                }
                (None, asks) => (None, asks),
            }
        }
        Expr::BinaryOp { left, op, right } => match op {
            B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq => {
                compared(left, right, typing, |l, r| Expr::BinaryOp {
                    left: Box::new(l),
                    op: op.clone(),
                    right: Box::new(r),
                })
            }
            // Arithmetic on numeric and interval columns, and `||` writing booleans and
            // numerics in their output forms.
            B::Plus | B::Minus | B::Multiply | B::Divide | B::Modulo
                if is_quoted(left) != is_quoted(right) =>
            {
                let (quoted, typed) = if is_quoted(left) {
                    (left, right)
                } else {
                    (right, left)
                };
                match typing.type_of(typed).and_then(number_type) {
                    Some(t) => {
                        let literal = Box::new(cast_to((**quoted).clone(), t));
                        let typed = match typed_column(typed, typing, &[PgType::Numeric]) {
                            Typed::Cast(c) => c,
                            _ => typed.clone(),
                        };
                        let (l, r) = if is_quoted(left) {
                            (literal, typed)
                        } else {
                            (typed, literal)
                        };
                        (
                            Some(Expr::BinaryOp {
                                left: l,
                                op: op.clone(),
                                right: r,
                            }),
                            false,
                        )
                    }
                    None => (None, typing.type_of(typed).is_none() && is_column(typed)),
                }
            }
            // `jsonb || '{...}'` concatenates two jsonb values, not text.
            B::StringConcat
                if (is_quoted(left) && typing.type_of(right) == Some(PgType::Jsonb))
                    || (is_quoted(right) && typing.type_of(left) == Some(PgType::Jsonb)) =>
            {
                let as_jsonb = |e: &Expr| match is_quoted(e) {
                    true => Box::new(cast_to(e.clone(), DataType::JSONB)),
                    false => Box::new(e.clone()),
                };
                let rewritten = Expr::BinaryOp {
                    left: as_jsonb(left),
                    op: op.clone(),
                    right: as_jsonb(right),
                };
                (Some(rewritten), false)
            }
            B::StringConcat
                if [left, right]
                    .iter()
                    .any(|e| matches!(array_column(e, typing), Typed::Cast(_))) =>
            {
                let side = |e: &Expr| match array_column(e, typing) {
                    Typed::Cast(c) => c,
                    _ => Box::new(e.clone()),
                };
                let concat = Expr::BinaryOp {
                    left: side(left),
                    op: B::StringConcat,
                    right: side(right),
                };
                (Some(concat), false)
            }
            B::Plus | B::Minus | B::Multiply | B::Divide | B::Modulo | B::StringConcat => {
                // A time times or divided by a number is the interval it casts to.
                let wanted: &[PgType] = if *op == B::StringConcat {
                    &[PgType::Bool, PgType::Numeric, PgType::Timestamptz]
                } else if matches!(op, B::Multiply | B::Divide) {
                    &[PgType::Numeric, PgType::Interval, PgType::Time]
                } else {
                    &[PgType::Numeric, PgType::Interval]
                };
                let (l, r) = (
                    typed_column(left, typing, wanted),
                    typed_column(right, typing, wanted),
                );
                let asks = matches!(l, Typed::Unknown) || matches!(r, Typed::Unknown);
                if !matches!(l, Typed::Cast(_)) && !matches!(r, Typed::Cast(_)) {
                    return (None, asks);
                }
                let side = |t: Typed, e: &Expr| match t {
                    Typed::Cast(c) => c,
                    _ => Box::new(e.clone()),
                };
                let rewritten = Expr::BinaryOp {
                    left: side(l, left),
                    op: op.clone(),
                    right: side(r, right),
                };
                (Some(rewritten), false)
            }
            _ => (None, false),
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr: inner,
        } => match typed_column(inner, typing, &[PgType::Numeric, PgType::Interval]) {
            Typed::Cast(c) => (
                Some(Expr::UnaryOp {
                    op: UnaryOperator::Minus,
                    expr: c,
                }),
                false,
            ),
            Typed::Unknown => (None, true),
            Typed::Not => (None, false),
        },
        // A boolean, numeric(p,s), interval or timestamptz column as text: in its output form.
        Expr::Cast {
            kind,
            expr: inner,
            data_type,
            format,
        } if is_textual(data_type) => {
            match typed_column(
                inner,
                typing,
                &[
                    PgType::Bool,
                    PgType::Numeric,
                    PgType::Interval,
                    PgType::Timestamptz,
                ],
            ) {
                Typed::Cast(c) => (
                    Some(Expr::Cast {
                        kind: kind.clone(),
                        expr: c,
                        data_type: data_type.clone(),
                        format: format.clone(),
                    }),
                    false,
                ),
                Typed::Unknown => (None, true),
                Typed::Not => (None, false),
            }
        }
        Expr::In {
            expr: x,
            target: InTarget::List(list),
            negated,
            global,
        } if list.iter().any(is_quoted) => match literal_type_beside(x, typing) {
            Ok(Some(t)) => (
                Some(Expr::In {
                    expr: x.clone(),
                    target: InTarget::List(
                        list.iter()
                            .map(|e| {
                                if is_quoted(e) {
                                    cast_to(e.clone(), t.clone())
                                } else {
                                    e.clone()
                                }
                            })
                            .collect(),
                    ),
                    negated: *negated,
                    global: *global,
                }),
                false,
            ),
            Ok(None) => (None, false),
            Err(Unknown) => (None, true),
        },
        _ => (None, false),
    }
}

/// A comparison with a quoted string on one side, the string cast to the other side's
/// type where SQLite would otherwise compare it as text.
fn compared(
    left: &Expr,
    right: &Expr,
    typing: &Typing,
    build: impl Fn(Expr, Expr) -> Expr,
) -> (Option<Expr>, bool) {
    let (typed, quoted, quoted_on_right) = if is_quoted(right) {
        (left, right, true)
    } else if is_quoted(left) {
        (right, left, false)
    } else {
        return datetimes_compared(left, right, typing, build);
    };
    match literal_type_beside(typed, typing) {
        Ok(Some(t)) => {
            let literal = cast_to(quoted.clone(), t);
            let rewritten = if quoted_on_right {
                build(typed.clone(), literal)
            } else {
                build(literal, typed.clone())
            };
            (Some(rewritten), false)
        }
        Ok(None) => (None, false),
        Err(Unknown) => (None, true),
    }
}

/// Two dates or times compared, which SQLite would compare as their stored texts: an
/// interval column beside an interval cast to its type (so compared by length); a date,
/// timestamp and timestamptz compared with one another as [`datetimes_aligned`] makes
/// them. Answers whether a column's type, not known here, may make it such a comparison.
fn datetimes_compared(
    left: &Expr,
    right: &Expr,
    typing: &Typing,
    build: impl Fn(Expr, Expr) -> Expr,
) -> (Option<Expr>, bool) {
    // An interval column beside an interval: cast to its type, so that the comparison is
    // of the intervals' lengths (expressions/temporal), not of their texts.
    if [left, right]
        .iter()
        .any(|e| typing.type_of(e) == Some(PgType::Interval))
    {
        let cast = |e: &Expr| match typed_column(e, typing, &[PgType::Interval]) {
            Typed::Cast(c) => Some(*c),
            _ => None,
        };
        return match (cast(left), cast(right)) {
            (None, None) => (None, false),
            (l, r) => (
                Some(build(
                    l.unwrap_or_else(|| left.clone()),
                    r.unwrap_or_else(|| right.clone()),
                )),
                false,
            ),
        };
    }
    match datetimes_aligned(&[left, right], typing) {
        (Some(aligned), asks) => match <[Expr; 2]>::try_from(aligned) {
            Ok([left, right]) => (Some(build(left, right)), asks),
            Err(_) => (None, asks),
        },
        (None, asks) => (None, asks),
    }
}

/// The operands of one comparison (`=`, BETWEEN, IN), each earlier kind of date or time
/// cast to the latest kind among them, as Postgres compares them (a timestamp taken in the
/// session's zone, a date as its midnight); `None` where none needs it. Answers too whether a
/// column's type, not known here, may make them such a comparison.
fn datetimes_aligned(operands: &[&Expr], typing: &Typing) -> (Option<Vec<Expr>>, bool) {
    let kind = |e: &Expr| match typing.type_of(e) {
        Some(PgType::Date) => Some(Some(1)),
        Some(PgType::Timestamp) => Some(Some(2)),
        Some(PgType::Timestamptz) => Some(Some(3)),
        None if mentions_column(e) => Some(None),
        _ => None,
    };
    let Some(kinds) = operands.iter().map(|e| kind(e)).collect::<Option<Vec<_>>>() else {
        return (None, false);
    };
    let Some(kinds) = kinds.into_iter().collect::<Option<Vec<u8>>>() else {
        return (None, true);
    };
    let latest = kinds.iter().copied().max().unwrap_or(0);
    if kinds.iter().all(|k| *k == latest) {
        return (None, false);
    }
    let target = match latest {
        1 => DataType::Date,
        2 => DataType::Timestamp(None, TimezoneInfo::None),
        _ => DataType::Timestamp(None, TimezoneInfo::WithTimeZone),
    };
    let aligned = operands
        .iter()
        .zip(kinds)
        .map(|(e, k)| match k == latest {
            true => (*e).clone(),
            false => cast_to((*e).clone(), target.clone()),
        })
        .collect();
    (Some(aligned), false)
}

/// `coalesce`, `greatest` or `least` of a date, timestamp and timestamptz: Postgres
/// resolves them to the latest kind, so the others are cast to it (a timestamp read in
/// the session's zone), as [`datetimes_aligned`] does; a NULL or quoted argument takes
/// the type as it is. Answers whether a column's type, not known here, may need it.
fn datetime_arguments_aligned(
    f: &sqlparser::ast::Function,
    typing: &Typing,
) -> (Option<Expr>, bool) {
    let FunctionArguments::List(list) = &f.args else {
        return (None, false);
    };
    let typed: Vec<&Expr> = list
        .args
        .iter()
        .filter_map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) if !is_untyped(e) => Some(e),
            _ => None,
        })
        .collect();
    let datetime = |e: &&Expr| {
        matches!(
            typing.type_of(e),
            Some(PgType::Date | PgType::Timestamp | PgType::Timestamptz)
        )
    };
    if !typed.iter().any(datetime) {
        return (None, false);
    }
    let (aligned, asks) = datetimes_aligned(&typed, typing);
    let Some(aligned) = aligned else {
        return (None, asks);
    };
    let mut call = f.clone();
    let mut aligned = aligned.into_iter();
    if let FunctionArguments::List(list) = &mut call.args {
        for arg in &mut list.args {
            if let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = arg
                && !is_untyped(e)
                && let Some(a) = aligned.next()
            {
                *e = a;
            }
        }
    }
    (Some(Expr::Function(call)), asks)
}

/// A column's type was needed and not known.
struct Unknown;

/// The type a quoted string beside `typed` must be read as, where SQLite would read it
/// differently: booleans are stored 1/0, uuids in their canonical form, bytea as bytes.
fn literal_type_beside(typed: &Expr, typing: &Typing) -> Result<Option<DataType>, Unknown> {
    match typing.type_of(typed) {
        Some(PgType::Bool) => Ok(Some(DataType::Boolean)),
        Some(PgType::Uuid) => Ok(Some(DataType::Uuid)),
        Some(PgType::Bytea) => Ok(Some(DataType::Bytea)),
        // Read as the type's input reads it (an instant without an offset in the session's
        // zone), so the stored forms compare.
        Some(PgType::Date) => Ok(Some(DataType::Date)),
        Some(PgType::Timestamp) => Ok(Some(DataType::Timestamp(None, TimezoneInfo::None))),
        Some(PgType::Timestamptz) => {
            Ok(Some(DataType::Timestamp(None, TimezoneInfo::WithTimeZone)))
        }
        // Compared by its length, which its text does not order.
        Some(PgType::Interval) => Ok(Some(DataType::Interval {
            fields: None,
            precision: None,
        })),
        Some(_) => Ok(None),
        None if is_column(typed) => Err(Unknown),
        None => Ok(None),
    }
}

/// What a column operand becomes.
enum Typed {
    /// A column of a wanted type, cast to its declared type.
    Cast(Box<Expr>),
    /// A column whose type is not known here.
    Unknown,
    /// Anything else: left as it is.
    Not,
}

/// `e` cast to its type where it is a column of one of the `wanted` types (a numeric to
/// its declared numeric(p,s)).
fn typed_column(e: &Expr, typing: &Typing, wanted: &[PgType]) -> Typed {
    if !is_column(e) {
        return Typed::Not;
    }
    let data_type = match typing.type_of(e) {
        None => return Typed::Unknown,
        Some(t) if !wanted.contains(&t) => return Typed::Not,
        Some(PgType::Numeric) => typing
            .declaration(e)
            .as_deref()
            .and_then(numeric_type)
            .unwrap_or(DataType::Numeric(ExactNumberInfo::None)),
        Some(PgType::Bool) => DataType::Boolean,
        Some(PgType::Interval) => DataType::Interval {
            fields: None,
            precision: None,
        },
        Some(PgType::Timestamptz) => DataType::Timestamp(None, TimezoneInfo::WithTimeZone),
        Some(PgType::Time) => DataType::Time(None, TimezoneInfo::None),
        Some(_) => return Typed::Not,
    };
    Typed::Cast(Box::new(cast_to(e.clone(), data_type)))
}

/// `e` cast to its array type where it is a column of an array of booleans, numbers or
/// texts (the arrays `pg_array_in` reads), so the translation treats it as the array it
/// is: `||` appends to it, `ARRAY[a, b]` stacks it, `array_agg(a)` sees an array.
fn array_column(e: &Expr, typing: &Typing) -> Typed {
    if !is_column(e) {
        return Typed::Not;
    }
    let Some(t) = typing.type_of(e) else {
        return Typed::Unknown;
    };
    let element = match t.element().filter(|_| t != PgType::Int2Vector) {
        Some(PgType::Bool) => DataType::Boolean,
        Some(e) if is_text(e) => DataType::Text,
        Some(e) => match number_type(e) {
            Some(n) => n,
            None => return Typed::Not,
        },
        None => return Typed::Not,
    };
    let array = DataType::Array(ArrayElemTypeDef::SquareBracket(Box::new(element), None));
    Typed::Cast(Box::new(cast_to(e.clone(), array)))
}

/// The SQL type of a number type: what a quoted string beside it is read as (`1 + 'a'`
/// is 22P02, as integer input refuses `a`).
fn number_type(t: PgType) -> Option<DataType> {
    Some(match t {
        PgType::Int2 => DataType::SmallInt(None),
        PgType::Int4 => DataType::Integer(None),
        PgType::Int8 => DataType::BigInt(None),
        PgType::Float4 => DataType::Real,
        PgType::Float8 => DataType::DoublePrecision,
        PgType::Numeric => DataType::Numeric(ExactNumberInfo::None),
        _ => return None,
    })
}

/// `f` with its first argument replaced.
/// A JSON builder whose date/time arguments are written as Postgres writes them in JSON;
/// whether a column of unknown type was among them.
fn json_datetimes(f: &sqlparser::ast::Function, typing: &Typing) -> (Option<Expr>, bool) {
    let mut rewritten = f.clone();
    let FunctionArguments::List(list) = &mut rewritten.args else {
        return (None, false);
    };
    let (mut changed, mut asks) = (false, false);
    for arg in &mut list.args {
        let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = arg else {
            continue;
        };
        let kind = match typing.type_of(e) {
            Some(PgType::Date) => "date",
            Some(PgType::Time) => "time",
            Some(PgType::Timestamp) => "timestamp",
            Some(PgType::Timestamptz) => "timestamptz",
            Some(_) => continue,
            None => {
                asks |= is_column(e);
                continue;
            }
        };
        *e = call("pg_json_datetime", vec![string(kind), e.clone()]);
        changed = true;
    }
    (changed.then_some(Expr::Function(rewritten)), asks)
}

fn with_first_arg(f: &sqlparser::ast::Function, first: Expr) -> Expr {
    let mut call = f.clone();
    if let FunctionArguments::List(list) = &mut call.args
        && let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(e))) = list.args.first_mut()
    {
        *e = first;
    }
    Expr::Function(call)
}

fn is_textual(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Text | DataType::Varchar(_) | DataType::CharacterVarying(_)
    )
}

/// `numeric(p,s)` as a declaration gives it; `None` for other types.
pub(super) fn numeric_type(declared: &str) -> Option<DataType> {
    let (oid, typmod) = catalog_of_declared(declared);
    if oid != PgType::Numeric.oid() {
        return None;
    }
    Some(DataType::Numeric(if typmod >= 4 {
        let m = u64::try_from(typmod - 4).ok()?;
        ExactNumberInfo::PrecisionAndScale(m >> 16, i64::try_from(m & 0xffff).ok()?)
    } else {
        ExactNumberInfo::None
    }))
}

/// A type's name in place of `pg_typeof(arg)`. Where `arg` aggregates (`sum(x)`) or is
/// a window function, the query must still compute it, or it would no longer group its
/// rows into one: the name is the first of a coalesce that holds it.
fn named(name: String, arg: &Expr) -> Expr {
    if computes_over_rows(arg) {
        call("coalesce", vec![string(&name), arg.clone()])
    } else {
        string(&name)
    }
}

fn computes_over_rows(e: &Expr) -> bool {
    let mut found = false;
    let _ = sqlparser::ast::visit_expressions(e, |x| {
        found |= matches!(x, Expr::Function(f) if f.over.is_some() || is_aggregate(f));
        std::ops::ControlFlow::<()>::Continue(())
    });
    found
}

fn cast_to(e: Expr, data_type: DataType) -> Expr {
    Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(e),
        data_type,
        format: None,
    }
}

fn single_or_first_arg(args: &FunctionArguments) -> Option<&Expr> {
    match args {
        FunctionArguments::List(list) => match list.args.first()? {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        },
        _ => None,
    }
}

fn single_arg(args: &FunctionArguments) -> Option<&Expr> {
    match args {
        FunctionArguments::List(list) if list.args.len() == 1 => match &list.args[0] {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        },
        _ => None,
    }
}

fn is_column(e: &Expr) -> bool {
    matches!(
        strip_nesting(e),
        Expr::Identifier(_) | Expr::CompoundIdentifier(_)
    )
}

/// A quoted string, which Postgres types by what it meets.
fn is_quoted(e: &Expr) -> bool {
    matches!(strip_nesting(e), Expr::Value(v) if matches!(v.value, Value::SingleQuotedString(_)))
}

/// A quoted string or NULL: `pg_typeof` names their type `unknown`.
fn is_untyped(e: &Expr) -> bool {
    is_quoted(e) || matches!(strip_nesting(e), Expr::Value(v) if v.value == Value::Null)
}

fn mentions_column(e: &Expr) -> bool {
    let mut found = false;
    let _ = sqlparser::ast::visit_expressions(e, |x| {
        found |= is_column(x);
        std::ops::ControlFlow::<()>::Continue(())
    });
    found
}

#[cfg(test)]
mod tests {
    use sqlparser::ast::Statement;

    use super::make_types_explicit;
    use crate::infer::schema::{NoSchema, Schema};
    use crate::parse::postgres;
    use crate::types::{PgType, from_column_declaration};

    /// `nums(id int, x numeric(12,4), n numeric, ok boolean, u uuid, b bytea, d interval,
    /// a int[], day date, ts timestamp, tz timestamptz)`.
    struct Nums;
    impl Nums {
        fn declared(column: &str) -> Option<&'static str> {
            Some(match column {
                "id" => "int",
                "x" => "numeric(12,4)",
                "n" => "numeric",
                "ok" => "boolean",
                "u" => "uuid",
                "b" => "bytea",
                "d" => "interval",
                "a" => "int[]",
                "day" => "date",
                "ts" => "timestamp",
                "tz" => "timestamptz",
                _ => return None,
            })
        }
    }
    impl Schema for Nums {
        fn column_type(&self, table: &str, column: &str) -> Option<PgType> {
            (table == "nums").then(|| from_column_declaration(Nums::declared(column)?))?
        }
        fn columns(&self, _: &str) -> Vec<String> {
            Vec::new()
        }
        fn declared_type(&self, table: &str, column: &str) -> Option<String> {
            (table == "nums").then(|| Nums::declared(column).map(str::to_owned))?
        }
    }

    fn explicit(sql: &str, schema: &dyn Schema) -> (String, bool) {
        let mut ast: Statement = postgres::parse(sql).unwrap().remove(0);
        let asks = make_types_explicit(&mut ast, schema).unwrap();
        (ast.to_string(), asks)
    }

    #[test]
    fn coalesce_greatest_and_least_of_dates_and_timestamps_take_the_later_kind() {
        assert_eq!(
            explicit(
                "SELECT coalesce(min(tz), '1970-01-01'::timestamp), greatest(day, ts, NULL), \
                 coalesce(id, 2) FROM nums",
                &Nums
            )
            .0,
            "SELECT coalesce(min(tz), CAST('1970-01-01'::TIMESTAMP AS TIMESTAMP WITH TIME ZONE)), \
             greatest(CAST(day AS TIMESTAMP), ts, NULL), coalesce(id, 2) FROM nums"
        );
    }

    #[test]
    fn dates_and_timestamps_compare_as_the_later_kind() {
        assert_eq!(
            explicit(
                "SELECT tz = ts, tz < '2008-01-01'::timestamp, day <= tz, day::date = date_trunc('day', tz) FROM nums",
                &Nums
            ),
            (
                "SELECT tz = CAST(ts AS TIMESTAMP WITH TIME ZONE), \
                 tz < CAST('2008-01-01'::TIMESTAMP AS TIMESTAMP WITH TIME ZONE), \
                 CAST(day AS TIMESTAMP WITH TIME ZONE) <= tz, \
                 CAST(day::DATE AS TIMESTAMP WITH TIME ZONE) = date_trunc('day', tz) FROM nums"
                    .to_owned(),
                false
            )
        );
        assert_eq!(
            explicit(
                "SELECT 1 FROM nums WHERE tz BETWEEN ts AND '2009-01-01'::timestamp \
                 AND tz IN (ts, '2008-01-01'::timestamp)",
                &Nums
            )
            .0,
            "SELECT 1 FROM nums WHERE tz BETWEEN CAST(ts AS TIMESTAMP WITH TIME ZONE) AND \
             CAST('2009-01-01'::TIMESTAMP AS TIMESTAMP WITH TIME ZONE) AND \
             tz IN (CAST(ts AS TIMESTAMP WITH TIME ZONE), \
             CAST('2008-01-01'::TIMESTAMP AS TIMESTAMP WITH TIME ZONE))"
        );
        // Two columns of types not known yet: planned again with them.
        assert!(explicit("SELECT 1 FROM t WHERE a = b", &NoSchema).1);
        assert!(!explicit("SELECT 1 FROM t WHERE a = 1", &NoSchema).1);
    }

    #[test]
    fn pg_typeof_names_the_type_the_scope_gives() {
        assert_eq!(
            explicit(
                "SELECT pg_typeof(x * 2), pg_typeof(id + 1), pg_typeof('a') FROM nums",
                &Nums
            ),
            (
                "SELECT 'numeric', 'integer', pg_typeof('a') FROM nums".to_owned(),
                false
            )
        );
        // An aggregate is still computed: the query keeps its one group.
        assert_eq!(
            explicit("SELECT pg_typeof(count(*)) FROM nums", &Nums).0,
            "SELECT coalesce('bigint', count(*)) FROM nums"
        );
        assert_eq!(
            explicit(
                "SELECT pg_typeof(v) FROM (SELECT 1::bigint AS v UNION SELECT 2) AS t",
                &NoSchema
            )
            .0,
            "SELECT 'bigint' FROM (SELECT 1::BIGINT AS v UNION SELECT 2) AS t"
        );
        // Without the schema a column's type is unknown: the caller is told.
        assert_eq!(
            explicit("SELECT pg_typeof(x) FROM nums", &NoSchema),
            ("SELECT pg_typeof(x) FROM nums".to_owned(), true)
        );
    }

    #[test]
    fn quoted_strings_beside_booleans_uuids_and_bytea_are_read_as_those_types() {
        assert_eq!(
            explicit(
                "SELECT id FROM nums WHERE ok = 't' AND 'abc' <> b AND u IN ('A0EE', x)",
                &Nums
            )
            .0,
            "SELECT id FROM nums WHERE ok = CAST('t' AS BOOLEAN) AND CAST('abc' AS BYTEA) <> b \
             AND u IN (CAST('A0EE' AS UUID), x)"
        );
        // A text or integer column compares with the string as SQLite does.
        let (sql, asks) = explicit("SELECT id FROM nums WHERE id = '1'", &Nums);
        assert_eq!(
            (sql.as_str(), asks),
            ("SELECT id FROM nums WHERE id = '1'", false)
        );
        assert!(explicit("SELECT id FROM nums WHERE ok = 't'", &NoSchema).1);
    }

    #[test]
    fn operators_and_aggregates_postgres_has_not_for_the_types_are_refused() {
        for sql in [
            "SELECT 1 + true",
            "SELECT ok * 2 FROM nums",
            "SELECT 'a'::text - 'b'::text",
            "SELECT max(ok) FROM nums",
            "SELECT now() * '0:00:00'::interval",
            "SELECT tz * interval '1 hour' FROM nums",
            "SELECT day / 2 FROM nums",
            "SELECT d * d FROM nums",
            "SELECT 2 / d FROM nums",
            "SELECT d % 2 FROM nums",
        ] {
            let mut ast = postgres::parse(sql).unwrap().remove(0);
            let e = make_types_explicit(&mut ast, &Nums).unwrap_err();
            assert_eq!(e.sqlstate, "42883", "{sql}");
        }
        // An interval times or divided by a number, or by what the statement does not type.
        for sql in [
            "SELECT d * id, id * d, d / x, d * $1, interval '1 day' * '2' FROM nums",
            "SELECT time '10:00' / 2",
        ] {
            let mut ast = postgres::parse(sql).unwrap().remove(0);
            assert!(make_types_explicit(&mut ast, &Nums).is_ok(), "{sql}");
        }
        // A quoted string beside a number is read as that number's type.
        assert_eq!(
            explicit("SELECT 1 + 'a', '2' * x, 'a' || 'b' FROM nums", &Nums).0,
            "SELECT 1 + CAST('a' AS INTEGER), CAST('2' AS NUMERIC) * CAST(x AS NUMERIC(12,4)), \
             'a' || 'b' FROM nums"
        );
    }

    #[test]
    fn a_number_written_into_a_boolean_column_is_refused() {
        let insert = |sql: &str, schema: &dyn Schema| {
            super::check_inserted(&postgres::parse(sql).unwrap().remove(0), schema)
        };
        let e = insert("INSERT INTO nums (id, ok) VALUES (1, 1)", &Nums).unwrap_err();
        assert_eq!(e.sqlstate, "42804");
        assert!(
            e.message.contains("\"ok\" is of type boolean"),
            "{}",
            e.message
        );
        assert!(!insert("INSERT INTO nums (id, ok) VALUES (1, true)", &Nums).unwrap());
        // Without the schema the column's type is asked for.
        assert!(insert("INSERT INTO nums (id, ok) VALUES (1, 1)", &NoSchema).unwrap());
    }

    #[test]
    fn interval_columns_sort_by_their_length() {
        assert_eq!(
            explicit("SELECT d FROM nums ORDER BY d, id", &Nums).0,
            "SELECT d FROM nums ORDER BY pg_interval_key(CAST(d AS INTERVAL)), id"
        );
    }

    #[test]
    fn columns_written_as_text_are_read_as_their_types_first() {
        assert_eq!(
            explicit(
                "SELECT ok::text, x::text, 'a' || ok, id::text FROM nums",
                &Nums
            )
            .0,
            "SELECT CAST(ok AS BOOLEAN)::TEXT, CAST(x AS NUMERIC(12,4))::TEXT, \
             'a' || CAST(ok AS BOOLEAN), id::TEXT FROM nums"
        );
    }

    #[test]
    fn array_columns_are_read_as_arrays() {
        assert_eq!(
            explicit(
                "SELECT a || 9, 0 || a, id || 'x', ARRAY[a, a], ARRAY[id], array_agg(a) FROM nums",
                &Nums
            )
            .0,
            "SELECT CAST(a AS INTEGER[]) || 9, 0 || CAST(a AS INTEGER[]), id || 'x', \
             ARRAY[CAST(a AS INTEGER[]), CAST(a AS INTEGER[])], ARRAY[id], \
             array_agg(CAST(a AS INTEGER[])) FROM nums"
        );
        assert!(explicit("SELECT a || 9 FROM nums", &NoSchema).1);
        assert!(explicit("SELECT ARRAY[a] FROM nums", &NoSchema).1);
    }

    #[test]
    fn numeric_columns_are_computed_with_their_declared_scale() {
        assert_eq!(
            explicit(
                "SELECT x * 2, -n, sum(x), min(x), max(n), id / 2 FROM nums",
                &Nums
            )
            .0,
            "SELECT CAST(x AS NUMERIC(12,4)) * 2, -CAST(n AS NUMERIC), \
             sum(CAST(x AS NUMERIC(12,4))), CAST(min(x) AS NUMERIC(12,4)), max(n), id / 2 FROM nums"
        );
        assert!(explicit("SELECT x * 2 FROM nums", &NoSchema).1);
        assert!(!explicit("SELECT 1 + 2", &NoSchema).1);
    }
}
