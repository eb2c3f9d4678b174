//! Expressions SQLite would read differently, rewritten in one bottom-up walk, then casts.
//! Knows expressions only: queries, FROM clauses and DDL are the other translate files'.
//!
//! [`rewrite_one`] sends each expression by kind: calls and SQL's special forms to
//! `functions` (which takes dates from `temporal`), `±` to `temporal`, literals to
//! `literals`, the rest to `operators`; `casts` is the pass after the walk. json and array
//! expressions go to `json` first (which hands arrays to `arrays`; both read `kinds`).
//! Only `functions` → `temporal` and `json` → `arrays` → `kinds` cross between them.

mod arrays;
mod casts;
mod functions;
mod json;
mod kinds;
mod literals;
mod operators;
mod temporal;

use std::ops::ControlFlow;

use sqlparser::ast::{BinaryOperator, Expr, Statement, visit_expressions_mut};

use crate::RouterError;
use crate::plan::session::SessionContext;

/// Rewrites, in place, every expression of `ast` that SQLite would read differently, then
/// every cast.
pub(super) fn rewrite(ast: &mut Statement, ctx: &SessionContext) -> Result<(), RouterError> {
    let flow = visit_expressions_mut(ast, |expr| match rewrite_one(expr, ctx) {
        Ok(Some(replacement)) => {
            *expr = replacement;
            ControlFlow::Continue(())
        }
        Ok(None) => ControlFlow::Continue(()),
        Err(e) => ControlFlow::Break(e),
    });
    if let ControlFlow::Break(e) = flow {
        return Err(e);
    }
    casts::rewrite_casts(ast)
}

/// What one expression becomes, its parts already rewritten (the walk is bottom-up);
/// `None` when SQLite reads it as Postgres does.
fn rewrite_one(expr: &Expr, ctx: &SessionContext) -> Result<Option<Expr>, RouterError> {
    if let Some(replacement) = json::rewrite(expr)? {
        return Ok(Some(replacement));
    }
    match expr {
        Expr::Function(f) => functions::rewrite_call(f, ctx),
        Expr::Identifier(_)
        | Expr::Trim { .. }
        | Expr::Position { .. }
        | Expr::Substring { .. } => Ok(functions::special_form(expr)),
        Expr::Extract { field, expr: x, .. } => {
            temporal::date_part(&field.to_string(), (**x).clone()).map(Some)
        }
        Expr::BinaryOp {
            left,
            op: op @ (BinaryOperator::Plus | BinaryOperator::Minus),
            right,
        } => temporal::arithmetic(left, op, right),
        Expr::Value(v) => literals::rewrite_value(&v.value),
        other => operators::rewrite(other),
    }
}
