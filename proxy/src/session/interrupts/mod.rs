//! What stops a session's statement or ends its connection from outside its loop.
//! It must not know a session's state or statements: only the handles a session hands out.
//!
//! A CancelRequest, statement_timeout, pg_cancel_backend / pg_terminate_backend / KILL,
//! the connection's off-switch.
//!
//! Order: `cancel` <- `timer`; `control` and `signal` stand alone.

pub(crate) mod cancel;
pub(crate) mod control;
pub(crate) mod signal;
pub(crate) mod timer;
