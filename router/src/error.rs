//! The router's one error type: what the client is told, with Postgres' SQLSTATE.
//! It knows nothing of statements or plans, so every room may return it.

/// An error the router reports to the client, with its SQLSTATE.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RouterError {
    pub sqlstate: &'static str,
    pub message: String,
}

impl RouterError {
    pub(crate) fn syntax(message: String) -> RouterError {
        RouterError {
            sqlstate: "42601",
            message,
        }
    }

    pub(crate) fn unsupported(construct: &str) -> RouterError {
        RouterError {
            sqlstate: "0A000",
            message: format!("{construct} is not supported by litescale"),
        }
    }

    /// 42501: what would reach past the tenant's own database (other files, the host,
    /// SQLite's or litescale's internals).
    pub(crate) fn forbidden(what: &str) -> RouterError {
        RouterError {
            sqlstate: "42501",
            message: format!("permission denied: {what}"),
        }
    }
}
