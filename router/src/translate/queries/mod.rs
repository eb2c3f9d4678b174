//! The query constructs SQLite lacks or spells differently, one per file: DISTINCT ON and
//! FETCH ... WITH TIES (both on `window_filter`), FETCH/OFFSET ROWS, UPDATE ... FROM /
//! DELETE ... USING (`dml_joins`), values written by INSERT and UPDATE (`written_values`),
//! ON CONFLICT's constraint names and twice-updated rows (`upsert`), parenthesized and
//! VALUES branches of set operations and INTERSECT / EXCEPT ALL (`set_operations`), GROUPING SETS / ROLLUP / CUBE as a
//! union of GROUP BYs, HAVING without GROUP BY over one group and where aggregates may stand
//! (`aggregation/`), LATERAL subqueries of at most one row as scalar subqueries (`lateral`);
//! `refusals` names what cannot be kept exactly (0A000).
//!
//! Order: window_filter ← distinct_on, fetch; aggregation ← lateral; written_values,
//! dml_joins, set_operations, upsert and refusals stand alone.

mod aggregation;
mod distinct_on;
mod dml_joins;
mod fetch;
mod lateral;
mod refusals;
mod set_operations;
mod upsert;
mod window_filter;
mod written_values;

use sqlparser::ast::{Statement, Visit, VisitMut};

use crate::RouterError;

pub(crate) use fetch::fetch_as_limit;

/// Refuses what SQLite cannot run exactly, then rewrites the rest into SQLite's forms.
/// Runs first, so the later passes (names, NULL order, expressions) see SQLite's shape.
pub(super) fn rewrite(ast: &mut Statement) -> Result<(), RouterError> {
    aggregation::rewrite(ast)?;
    if let std::ops::ControlFlow::Break(e) = ast.visit(&mut lateral::Lateral) {
        return Err(e);
    }
    if let std::ops::ControlFlow::Break(e) = Visit::visit(&*ast, &mut refusals::Refusals) {
        return Err(e);
    }
    if let std::ops::ControlFlow::Break(e) = ast.visit(&mut fetch::FetchAsLimit) {
        return Err(e);
    }
    if let std::ops::ControlFlow::Break(e) = ast.visit(&mut distinct_on::DistinctOn) {
        return Err(e);
    }
    if let std::ops::ControlFlow::Break(e) =
        ast.visit(&mut set_operations::AllAsDistinct::default())
    {
        return Err(e);
    }
    let _ = ast.visit(&mut set_operations::SetOperationBranches);
    upsert::rewrite(ast)?;
    written_values::rewrite(ast);
    dml_joins::rewrite(ast)
}
