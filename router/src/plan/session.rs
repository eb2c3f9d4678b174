//! The session a statement is planned for: what `current_database()`, `current_user` and
//! `pg_backend_pid()` answer, and the search path. Plans inline these, so a plan belongs to
//! its session.

/// What a session's own functions answer: `current_database()`, `current_user`, ...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionContext {
    pub database: String,
    pub user: String,
    pub backend_pid: i32,
    /// The schemas unqualified names are looked up in, in order (`search_path` without
    /// `$user` and the catalogs); `["public"]` unless set.
    pub search_path: Vec<String>,
    /// The roles GRANT and REVOKE may name besides postgres and PUBLIC (the config's
    /// users); `None` for any name (no users configured: any name may connect).
    pub roles: Option<std::sync::Arc<[String]>>,
}

impl Default for SessionContext {
    fn default() -> Self {
        SessionContext {
            database: "postgres".to_owned(),
            user: "postgres".to_owned(),
            backend_pid: 0,
            search_path: vec!["public".to_owned()],
            roles: None,
        }
    }
}

impl SessionContext {
    /// Whether unqualified names may be another schema's than public: they are resolved
    /// with the schema ([`crate::plan_with_schema`]).
    pub fn searches_other_schemas(&self) -> bool {
        self.search_path.iter().any(|s| s != "public")
    }
}
