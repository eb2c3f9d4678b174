//! Aggregation as Postgres has it where SQLite differs: where aggregates and window
//! functions may stand (`rules`: 42803, 42P20, 42809, checked first), GROUPING SETS /
//! ROLLUP / CUBE as a union of GROUP BYs (`grouping_sets`), HAVING without GROUP BY over
//! one group (`one_group`, which asks `rules` what holds an aggregate).

mod grouping_sets;
mod one_group;
mod rules;

use std::ops::ControlFlow;

use sqlparser::ast::{Statement, VisitMut};

use crate::RouterError;

pub(super) use rules::holds_aggregate;

/// Refuses what Postgres refuses, then rewrites grouping into SQLite's forms.
pub(super) fn rewrite(ast: &mut Statement) -> Result<(), RouterError> {
    rules::check(ast)?;
    if let ControlFlow::Break(e) = ast.visit(&mut grouping_sets::GroupingSets) {
        return Err(e);
    }
    let _ = ast.visit(&mut one_group::OneGroup);
    Ok(())
}
