//! The session a statement is planned for: what `current_database()`, `current_user` and
//! `pg_backend_pid()` answer. Plans inline these, so a plan belongs to its session.

/// What a session's own functions answer: `current_database()`, `current_user`, ...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionContext {
    pub database: String,
    pub user: String,
    pub backend_pid: i32,
}

impl Default for SessionContext {
    fn default() -> Self {
        SessionContext {
            database: "postgres".to_owned(),
            user: "postgres".to_owned(),
            backend_pid: 0,
        }
    }
}
