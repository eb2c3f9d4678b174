//! What a parsed statement is and whether it may run: its kind, a signal to another
//! session, refusals (TEMP objects, litescale's tables), its `$n` parameters. No SQLite SQL.
//!
//! Each file is a leaf; the pipeline asks them in turn: `signals`, `kind`, `temporary`,
//! `internal`, then `parameters`.

pub(crate) mod internal;
pub(crate) mod kind;
pub(crate) mod parameters;
pub(crate) mod signals;
pub(crate) mod temporary;
