//! Expressions SQLite would read differently, rewritten in one bottom-up walk, then casts.
//! Knows expressions only: queries, FROM clauses and DDL are the other translate files'.
//!
//! [`rewrite_one`] sends each expression by kind: calls and SQL's special forms to
//! `functions` (which takes dates from `temporal`), typed literals, casts to date types and
//! operators on them to `temporal`, numeric casts and arithmetic to `numeric`, literals to
//! `literals`, ANY/ALL to `quantified`, the rest to `operators`; `casts` is the pass after
//! the walk, and `numeric` has the last word on the select list. json and array
//! expressions go to `json_arrays` first. Only `functions` → `temporal`, `library`,
//! `aggregates` (which takes numeric's exact forms) and `numeric` (sum, avg, round),
//! `literals` → `numeric` (wide numbers) and `operators` → `numeric` (a numeric's text for
//! `||`) cross between them.

mod aggregates;
mod casts;
mod functions;
mod json_arrays;
mod library;

pub(crate) use json_arrays::ROW_TO_JSON_OF_COLUMNS;
pub(crate) use library::PG_TYPEOF_OF_COLUMNS;
mod literals;
mod numeric;
mod operators;
mod quantified;
mod temporal;

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, Statement, visit_expressions_mut};

use crate::RouterError;
use crate::plan::session::SessionContext;

/// Rewrites, in place, every expression of `ast` that SQLite would read differently, then
/// every cast.
pub(super) fn rewrite(ast: &mut Statement, ctx: &SessionContext) -> Result<(), RouterError> {
    // What must see ARRAY[...] as written goes first: the walk below turns ARRAY[...] into
    // an array value (text) before it reaches the expression around it. ANY/ALL over it
    // become chains of comparisons; a subscript straight after it is Postgres' syntax
    // error (it wants `(ARRAY[...])[i]`). pg_typeof names the type of its argument as
    // written. `-a ^ b` is regrouped as Postgres reads it before `^` becomes power().
    walk(ast, |expr| match expr {
        Expr::AnyOp { right, .. } | Expr::AllOp { right, .. }
            if matches!(right.as_ref(), Expr::Array(_)) =>
        {
            quantified::rewrite(expr)
        }
        Expr::CompoundFieldAccess { root, .. } if matches!(root.as_ref(), Expr::Array(_)) => Err(
            RouterError::syntax("syntax error at or near \"[\"".to_owned()),
        ),
        Expr::UnaryOp { .. } => Ok(operators::minus_before_exponent(expr)),
        Expr::Function(f) if super::sql::function_name(f).as_deref() == Some("pg_typeof") => {
            match super::sql::args(f).as_slice() {
                [x] => library::type_name_of(x).map(Some),
                _ => Ok(None),
            }
        }
        _ => Ok(None),
    })?;
    walk(ast, |expr| rewrite_one(expr, ctx))?;
    casts::pad_answered_characters(ast);
    casts::rewrite_casts(ast)?;
    numeric::answer_exactly(ast);
    Ok(())
}

/// Replaces, bottom-up, each expression for which `rewrite` has a replacement.
fn walk(
    ast: &mut Statement,
    mut rewrite: impl FnMut(&Expr) -> Result<Option<Expr>, RouterError>,
) -> Result<(), RouterError> {
    let flow = visit_expressions_mut(ast, |expr| match rewrite(expr) {
        Ok(Some(replacement)) => {
            *expr = replacement;
            ControlFlow::Continue(())
        }
        Ok(None) => ControlFlow::Continue(()),
        Err(e) => ControlFlow::Break(e),
    });
    match flow {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// What one expression becomes, its parts already rewritten (the walk is bottom-up);
/// `None` when SQLite reads it as Postgres does.
fn rewrite_one(expr: &Expr, ctx: &SessionContext) -> Result<Option<Expr>, RouterError> {
    if let Some(replacement) = json_arrays::rewrite(expr)? {
        return Ok(Some(replacement));
    }
    match expr {
        Expr::Function(f) => functions::rewrite_call(f, ctx),
        Expr::Identifier(_)
        | Expr::Trim { .. }
        | Expr::Position { .. }
        | Expr::Substring { .. } => Ok(functions::special_form(expr, ctx)),
        // extract answers a numeric's text (`56.000000`), which SQLite would compare as
        // text: numeric's value form compares as a number, and the select list answers
        // the text.
        Expr::Extract { field, expr: x, .. } => {
            Ok(Some(numeric::value(temporal::extract(field, x))))
        }
        Expr::AtTimeZone {
            timestamp,
            time_zone,
        } => Ok(Some(temporal::at_time_zone(timestamp, time_zone))),
        Expr::TypedString(typed) => Ok(Some(temporal::typed_literal(typed))),
        Expr::Interval(i) => Ok(Some(temporal::interval(i))),
        Expr::Cast {
            expr: inner,
            data_type,
            ..
        } => match numeric::rewrite(expr)? {
            Some(rewritten) => Ok(Some(rewritten)),
            None => Ok(temporal::cast(inner, data_type)),
        },
        Expr::BinaryOp { left, op, right } => match temporal::binary(left, op, right)? {
            Some(rewritten) => Ok(Some(rewritten)),
            None => match numeric::rewrite(expr)? {
                Some(rewritten) => Ok(Some(rewritten)),
                None => operators::rewrite(expr),
            },
        },
        Expr::UnaryOp { op, expr: x } => {
            if *op == sqlparser::ast::UnaryOperator::Minus
                && let Some(negated) = temporal::negate(x)
            {
                return Ok(Some(negated));
            }
            match numeric::rewrite(expr)? {
                Some(rewritten) => Ok(Some(rewritten)),
                None => operators::rewrite(expr),
            }
        }
        Expr::Value(v) => literals::rewrite_value(&v.value),
        Expr::AnyOp { .. } | Expr::AllOp { .. } => quantified::rewrite(expr),
        other => operators::rewrite(other),
    }
}
