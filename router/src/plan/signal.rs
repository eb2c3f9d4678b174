//! A signal one session sends another (`pg_cancel_backend`, `pg_terminate_backend`), as
//! the plan carries it to the proxy, which alone knows the other sessions.

/// What the statement asks the proxy to do to a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// `pg_cancel_backend`: interrupt the statement it runs (57014 there).
    Cancel,
    /// `pg_terminate_backend`: end the connection (FATAL 57P01 there).
    Terminate,
}

impl Signal {
    /// The function's name, which is also the result column's name.
    pub fn function(self) -> &'static str {
        match self {
            Signal::Cancel => "pg_cancel_backend",
            Signal::Terminate => "pg_terminate_backend",
        }
    }

    pub(crate) fn of(name: &str) -> Option<Signal> {
        match name {
            "pg_cancel_backend" => Some(Signal::Cancel),
            "pg_terminate_backend" => Some(Signal::Terminate),
            _ => None,
        }
    }
}

/// The pid argument, as far as planning can know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendPid {
    Pid(i32),
    /// `NULL`: the function answers NULL, as Postgres' strict functions do.
    Null,
    /// `$n` (1-based), bound at execution.
    Param(usize),
}
