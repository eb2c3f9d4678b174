//! Errors litescale's SQL functions raise with Postgres' SQLSTATE: the code travels in the
//! message (SQLite has nowhere else to put it) and sqlite_errors.rs reads it back.

/// The code goes before the message as `pg:<code>:`.
const ERROR_PREFIX: &str = "pg:";

pub(crate) fn error(sqlstate: &str, message: &str) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(format!("{ERROR_PREFIX}{sqlstate}:{message}").into())
}

/// The SQLSTATEs these functions raise.
const SQLSTATES: &[&str] = &["22P02", "22023", "22004", "22003"];

/// The SQLSTATE and message of an error raised here.
pub(crate) fn sqlstate_of(message: &str) -> Option<(&'static str, &str)> {
    let (code, text) = message.strip_prefix(ERROR_PREFIX)?.split_once(':')?;
    Some((SQLSTATES.iter().find(|c| **c == code)?, text))
}
