//! Errors as the client sees them: a SQLSTATE and a message, from wherever they arose.

use litescale_router::{LENGTH_CHECK_PREFIX, RouterError};
use litescale_shard::{ErrorFields, ShardError};
use pgwire::error::{ErrorInfo, PgWireError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    pub sqlstate: &'static str,
    pub message: String,
    pub detail: Option<String>,
    /// The schema, table, column and constraint a violation names (the shard's).
    pub about: Option<Box<ErrorFields>>,
}

impl SqlError {
    pub fn new(sqlstate: &'static str, message: impl Into<String>) -> SqlError {
        SqlError {
            sqlstate,
            message: message.into(),
            detail: None,
            about: None,
        }
    }

    pub fn aborted_transaction() -> SqlError {
        SqlError::new(
            "25P02",
            "current transaction is aborted, commands ignored until end of transaction block",
        )
    }

    pub fn canceled() -> SqlError {
        SqlError::new("57014", "canceling statement due to user request")
    }

    /// The message for the client. Every error and notice sent goes through here, so
    /// errors are counted here (`litescale_errors_total` by SQLSTATE).
    pub fn info(&self, severity: &str) -> ErrorInfo {
        if matches!(severity, "ERROR" | "FATAL") {
            metrics::counter!("litescale_errors_total", "sqlstate" => self.sqlstate).increment(1);
        }
        let mut info = ErrorInfo::new(
            severity.to_owned(),
            self.sqlstate.to_owned(),
            self.message.clone(),
        );
        info.detail = self.detail.clone();
        if let Some(about) = self.about.as_deref().cloned() {
            info.schema = about.schema;
            info.table = about.table;
            info.column = about.column;
            info.constraint = about.constraint;
        }
        info
    }

    pub fn fatal(self) -> PgWireError {
        PgWireError::UserError(Box::new(self.info("FATAL")))
    }
}

impl From<SqlError> for PgWireError {
    fn from(e: SqlError) -> PgWireError {
        PgWireError::UserError(Box::new(e.info("ERROR")))
    }
}

impl From<RouterError> for SqlError {
    fn from(e: RouterError) -> SqlError {
        SqlError::new(e.sqlstate, e.message)
    }
}

impl From<ShardError> for SqlError {
    fn from(e: ShardError) -> SqlError {
        // The router enforces VARCHAR(n)/CHAR(n) with named CHECK constraints; their
        // violation is Postgres' "value too long".
        if e.sqlstate == "23514"
            && let Some((_, rest)) = e.message.split_once(LENGTH_CHECK_PREFIX)
        {
            let rest = rest.trim_end_matches('"');
            if let Some((kind, n)) = rest.split_once('_') {
                let name = if kind == "varying" {
                    "character varying"
                } else {
                    "character"
                };
                return SqlError::new("22001", format!("value too long for type {name}({n})"));
            }
        }
        SqlError {
            sqlstate: e.sqlstate,
            message: e.message,
            detail: e.detail,
            about: e.about,
        }
    }
}
