//! What the router's unit tests share: a text planned as one statement, the SQLite SQL
//! it becomes, and the message of a refusal. Test code only; no room imports it.

use crate::plan::session::SessionContext;
use crate::plan::statement::PlannedStatement;
use crate::{plan, plan_in};

/// The plan of a text that holds exactly one statement.
pub(crate) fn one(sql: &str) -> PlannedStatement {
    let mut v = plan(sql).unwrap();
    assert_eq!(v.len(), 1, "{sql}");
    v.remove(0)
}

/// The SQLite SQL of a text's first statement, planned for user `ann` of database `shop`
/// in backend 42 (so session functions have something to answer).
pub(crate) fn sql(text: &str) -> String {
    let ctx = SessionContext {
        database: "shop".into(),
        user: "ann".into(),
        backend_pid: 42,
        ..SessionContext::default()
    };
    plan_in(text, &ctx).unwrap().remove(0).sqlite_sql
}

/// The message of a text refused with 0A000 (the construct it names).
pub(crate) fn refused(text: &str) -> String {
    let e = plan(text).unwrap_err();
    assert_eq!(e.sqlstate, "0A000", "{text}");
    e.message
}
