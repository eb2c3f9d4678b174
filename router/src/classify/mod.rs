//! What a parsed statement is and whether it may run: its kind, a signal to another
//! session, an advisory lock, a setting set by set_config, refusals (TEMP objects, litescale's tables), its
//! `$n` parameters. No SQLite SQL.
//!
//! Each file is a leaf (`set_config`, `advisory_locks` and `sleep` borrow `signals`' shape
//! of a lone call); the pipeline asks them in turn: `signals`, `advisory_locks`, `sleep`,
//! `set_config`, `kind`, `temporary`, `internal`, then `parameters`.

/// The functions a statement calls, by their names as written, in lower case; the
/// classifiers look for theirs in it, so the statement is walked once.
pub(crate) fn functions_called(ast: &sqlparser::ast::Statement) -> Vec<String> {
    let mut called = Vec::new();
    let _ = sqlparser::ast::visit_expressions(ast, |e| {
        if let sqlparser::ast::Expr::Function(f) = e {
            called.push(f.name.to_string().to_ascii_lowercase());
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    called
}

pub(crate) mod advisory_locks;
pub(crate) mod internal;
pub(crate) mod kind;
pub(crate) mod notify;
pub(crate) mod parameters;
pub(crate) mod set_config;
pub(crate) mod signals;
pub(crate) mod sleep;
pub(crate) mod temporary;
