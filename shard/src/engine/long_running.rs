//! Noticing a statement that runs long, from inside SQLite: the caller's thread may then
//! hand its other work elsewhere while the statement goes on.

use rusqlite::Connection;

use crate::error::ShardError;

/// SQLite virtual-machine steps a statement runs on an async thread before that thread's
/// other work goes on elsewhere (a point select takes a few dozen; this many take well
/// under a millisecond).
const INLINE_STEPS: u32 = 10_000;

/// How many steps apart SQLite calls the progress handler that counts them. SQLite counts
/// a prepared statement's steps across all its executions, so on a cached statement the
/// first call comes at any step, even the first: counting calls, not trusting the first
/// one, bounds the steps of this execution. (With a handler every `INLINE_STEPS`, one in
/// every few hundred runs of a point select was taken for a long one.)
const STEPS_PER_CALL: u32 = 1_000;

/// Has SQLite call `long` once, from inside the statement and on its thread, when what
/// runs next on `c` passes `INLINE_STEPS` steps; the statement goes on. Until
/// [`stop_noting_long`].
pub(crate) fn note_long(c: &mut Connection, long: fn()) -> Result<(), ShardError> {
    let mut calls = 0;
    let handler = move || {
        calls += 1;
        if calls == INLINE_STEPS / STEPS_PER_CALL + 1 {
            long();
        }
        false
    };
    Ok(c.progress_handler(STEPS_PER_CALL as i32, Some(handler))?)
}

pub(crate) fn stop_noting_long(c: &mut Connection) {
    // Only fails while the handler runs, which it does not now.
    let _ = c.progress_handler(0, None::<fn() -> bool>);
}
