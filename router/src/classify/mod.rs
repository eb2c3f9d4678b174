//! What a parsed statement is and whether it may run: its kind, a signal to another
//! session, an advisory lock, a setting set by set_config, refusals (TEMP objects, litescale's tables), its
//! `$n` parameters. No SQLite SQL.
//!
//! Each file is a leaf (`set_config`, `advisory_locks` and `sleep` borrow `signals`' shape
//! of a lone call); the pipeline asks them in turn: `signals`, `advisory_locks`, `sleep`,
//! `set_config`, `kind`, `temporary`, `internal`, then `parameters`.

pub(crate) mod advisory_locks;
pub(crate) mod internal;
pub(crate) mod kind;
pub(crate) mod parameters;
pub(crate) mod set_config;
pub(crate) mod signals;
pub(crate) mod sleep;
pub(crate) mod temporary;
