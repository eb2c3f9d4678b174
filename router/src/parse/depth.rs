//! A bound on how deeply a statement nests. sqlparser builds operator chains (`1+1+...`,
//! `a || b || ...`, `x = 1 OR x = 2 OR ...`) in a loop, so its recursion limit does not
//! bound the depth of the tree it returns, and every later walk of that tree (rendering
//! it, translation, type inference, cloning, dropping it) recurses once per level: a
//! 2,000-term chain overflowed a lane thread's stack and killed the process. Statements
//! deeper than SQLite would run are refused right after parsing with Postgres' 54001.

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, Statement, Visit, Visitor};

use crate::RouterError;

/// Expressions nested deeper than this are refused. SQLite refuses expression trees higher
/// than 1,000 (SQLITE_MAX_EXPR_DEPTH); sqlparser's tree has a node for each pair of
/// parentheses besides, which SQLite's has not, and the parser allows 50 of those on a path.
pub const MAX_EXPR_DEPTH: usize = 1_100;

/// Stack one walk of a tree [`MAX_EXPR_DEPTH`] deep may take where it does not grow its
/// own (cloning, dropping, our type inference), with margin. Measured at that depth in an
/// unoptimised build: clone 5.9 MiB, inference 2.5 MiB, drop 0.1 MiB; a whole plan
/// 1.3 MiB optimised.
pub const WALK_STACK_BYTES: usize = 8 << 20;

/// Stack planning a statement takes besides what its text adds (see [`stack_for`]): the
/// threads that plan need at least this much.
pub const PLAN_STACK_BYTES: usize = 2 * WALK_STACK_BYTES;

/// Stack that dropping one level of a parsed expression chain takes, with margin (an
/// unoptimised build measured 100 bytes).
const DROP_BYTES_PER_LEVEL: usize = 512;

/// The stack planning `text_len` bytes of SQL may need: the parser builds a chain of up to
/// one level per two bytes (`+1`) before the depth is checked, and dropping a refused
/// chain recurses once per level.
pub(crate) fn stack_for(text_len: usize) -> usize {
    PLAN_STACK_BYTES + text_len / 2 * DROP_BYTES_PER_LEVEL
}

/// sqlparser's visitors and Display move to a new stack (the `recursive` crate) when less
/// than a minimum is left, 128 KiB by default; our code called back from a visitor
/// recurses without that protection (a type inference there overflowed 128 KiB), so the
/// minimum must hold one whole walk.
pub(crate) fn protect_callbacks() {
    static SET: std::sync::Once = std::sync::Once::new();
    SET.call_once(|| {
        recursive::set_minimum_stack_size(WALK_STACK_BYTES);
        recursive::set_stack_allocation_size(PLAN_STACK_BYTES);
    });
}

/// 54001 when `statement` nests deeper than [`MAX_EXPR_DEPTH`]. The walk stops at the
/// bound, and sqlparser's visitor grows its stack as it descends, so the check itself
/// is safe at any depth.
pub(crate) fn check(statement: &Statement) -> Result<(), RouterError> {
    struct Depth {
        current: usize,
    }
    impl Visitor for Depth {
        type Break = ();
        fn pre_visit_expr(&mut self, _: &Expr) -> ControlFlow<()> {
            self.current += 1;
            if self.current > MAX_EXPR_DEPTH {
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
        fn post_visit_expr(&mut self, _: &Expr) -> ControlFlow<()> {
            self.current -= 1;
            ControlFlow::Continue(())
        }
    }
    match statement.visit(&mut Depth { current: 0 }) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(()) => Err(too_deep()),
    }
}

/// Postgres' answer to a statement that nests too deeply.
pub(crate) fn too_deep() -> RouterError {
    RouterError {
        sqlstate: "54001",
        message: format!(
            "stack depth limit exceeded: the statement nests more than {MAX_EXPR_DEPTH} expressions deep"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(terms: usize) -> String {
        format!("select 1{}", "+1".repeat(terms - 1))
    }

    #[test]
    fn a_chain_up_to_the_bound_plans_and_one_past_it_is_refused() {
        assert!(crate::plan(&chain(MAX_EXPR_DEPTH)).is_ok());
        let e = crate::plan(&chain(MAX_EXPR_DEPTH + 1)).unwrap_err();
        assert_eq!(e.sqlstate, "54001", "{e}");
    }

    #[test]
    fn deep_chains_of_every_kind_are_refused_without_overflowing() {
        // Run on a thread with a small stack: planning grows its own.
        std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(|| {
                let n = 100_000;
                for sql in [
                    chain(n),
                    format!("select 'a'{}", "||'a'".repeat(n)),
                    format!("select 1 where {}", vec!["1=1"; n].join(" or ")),
                    // A syntax error after the chain: the parser drops it itself.
                    format!("{} +", chain(n)),
                ] {
                    let e = crate::plan(&sql).unwrap_err();
                    assert!(matches!(e.sqlstate, "54001" | "42601"), "{e}");
                }
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
