//! What planning hands the proxy: the planned statement, its kind and the values it
//! carries. Plain data: it knows no parsing, translation, types or partitions.
//!
//! `statement` holds [`PlannedStatement`] and [`StatementKind`], which carry a COPY's
//! `copy`, a `signal`, an `advisory_lock` call and a routing `hint`; `session` is what a plan is made for.

pub(crate) mod advisory_lock;
pub(crate) mod copy;
pub(crate) mod hint;
pub(crate) mod session;
pub(crate) mod signal;
pub(crate) mod statement;
