//! A planned statement: what it does (its kind, which decides where it runs), the SQLite
//! SQL to run, and what the proxy needs besides. Its type inference is in `infer/`.

use std::sync::OnceLock;

use sqlparser::ast::Statement;

use super::advisory_lock::{AdvisoryLockCall, KeyArg};
use super::copy::CopySpec;
use super::hint::Hint;
use super::signal::{BackendPid, Signal};

/// How strongly a transaction is isolated, as the client asked in BEGIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// Postgres' default, also used for READ UNCOMMITTED as Postgres does.
    ReadCommitted,
    /// REPEATABLE READ and SERIALIZABLE.
    Serializable,
}

/// What a statement does, which decides where it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementKind {
    /// Reads only: may run on any reader.
    Read,
    /// INSERT / UPDATE / DELETE: runs on the partition's single writer.
    Write(WriteKind),
    /// Schema change, with its command tag ("CREATE TABLE"): runs on the writer.
    Ddl(&'static str),
    /// `LOCK TABLE t IN ACCESS SHARE MODE`: it keeps out only DROP and ALTER, which a
    /// snapshot block's reads do not see, so there it takes nothing (allowed in a READ
    /// ONLY block, as pg_dump takes it); in a READ COMMITTED block it takes the writers.
    ShareLock(Vec<String>),
    Begin {
        isolation: Isolation,
        read_only: bool,
    },
    Commit,
    Rollback,
    Savepoint(String),
    Release(String),
    RollbackTo(String),
    /// `SET [LOCAL] name = value`; `value` is `None` for `SET name TO DEFAULT`. A `local`
    /// one lasts until its transaction ends. `SELECT set_config(...)` `answer`s with the new
    /// value in a column of that name.
    Set {
        name: String,
        value: Option<TextArg>,
        local: bool,
        answer: Option<String>,
    },
    Show(String),
    /// `SELECT current_setting(name [, missing_ok])` alone: the setting's value (NULL for
    /// an unknown one when `missing_ok`), in a column named `answer`.
    CurrentSetting {
        name: String,
        missing_ok: bool,
        answer: String,
    },
    /// `RESET name`, or `RESET ALL` when `None`.
    Reset(Option<String>),
    /// COPY FROM STDIN / TO STDOUT; for `COPY (query) TO STDOUT` the query is the
    /// statement's SQLite SQL.
    Copy(CopySpec),
    /// `DEALLOCATE name`, or `DEALLOCATE ALL` when `None`.
    Deallocate(Option<String>),
    /// `LISTEN channel`: the session hears the channel's notifications.
    Listen(String),
    /// `UNLISTEN channel`, or `UNLISTEN *` (`None`).
    Unlisten(Option<String>),
    /// `NOTIFY channel [, 'payload']`, or `SELECT pg_notify(channel, payload)` alone
    /// (`answer`s one void column of that name): sent when the transaction commits.
    Notify {
        channel: TextArg,
        payload: TextArg,
        answer: Option<String>,
    },
    /// `PREPARE name [(types)] AS statement`: the statement's text and its parameters'
    /// declared types, which the session keeps for EXECUTE ([`crate::bind_prepared`]).
    Prepare {
        name: String,
        statement: String,
        parameter_types: Vec<String>,
    },
    /// `EXECUTE name [(arguments)]`: a statement prepared by name, with its arguments as
    /// SQL text (the proxy answers 26000 for a name it does not know).
    Execute {
        name: String,
        arguments: Vec<String>,
    },
    /// `EXPLAIN statement`: where the statement would run, and what runs there.
    Explain(Box<PlannedStatement>),
    /// `DECLARE name [NO SCROLL] CURSOR [WITH HOLD] FOR query`: the proxy runs the query
    /// and keeps its rows for FETCH, until CLOSE or (without HOLD) the block's end.
    DeclareCursor {
        name: String,
        hold: bool,
        query: Box<PlannedStatement>,
    },
    /// `FETCH [FORWARD] [count | ALL] [FROM | IN] name` (and `MOVE`, which answers no rows:
    /// `rows` false): the cursor's next rows (`count` None: all that are left).
    Fetch {
        name: String,
        count: Option<u64>,
        rows: bool,
    },
    /// `CLOSE name` (`None`: `CLOSE ALL`).
    CloseCursor(Option<String>),
    /// `CREATE DATABASE name`: a new tenant, with its own files.
    CreateDatabase {
        name: String,
        if_not_exists: bool,
    },
    /// `DROP DATABASE [IF EXISTS] name`.
    DropDatabase {
        name: String,
        if_exists: bool,
    },
    /// `SET TRANSACTION ...`: what it changes of the open block (`None`: unchanged).
    SetTransaction {
        isolation: Option<Isolation>,
        read_only: Option<bool>,
    },
    /// `SELECT pg_cancel_backend(pid)` / `SELECT pg_terminate_backend(pid)`: the proxy
    /// signals that session and answers one boolean column named `column`.
    SignalBackend {
        signal: Signal,
        pid: BackendPid,
        column: String,
    },
    /// `SELECT pg_advisory_lock(key)` and its family: the proxy keeps the lock and answers
    /// one column (void or boolean).
    AdvisoryLock(AdvisoryLockCall),
    /// `SELECT pg_sleep(seconds)`: the proxy waits, and answers one void column named
    /// `column`.
    Sleep {
        seconds: SleepSeconds,
        column: String,
    },
}

/// A text argument of a call the proxy answers, as far as planning can know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextArg {
    Text(String),
    Null,
    /// `$n` (1-based), bound at execution.
    Param(usize),
}

/// pg_sleep's argument, as far as planning can know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SleepSeconds {
    Millis(u64),
    /// `NULL`: no wait, as Postgres' strict function answers NULL.
    Null,
    /// `$n` (1-based), bound at execution.
    Param(usize),
}

impl StatementKind {
    /// The highest `$n` a call the proxy answers (a signal, an advisory lock, pg_sleep)
    /// takes; 0 for the rest, whose parameters their SQL counts.
    pub(crate) fn highest_param(&self) -> usize {
        match self {
            StatementKind::SignalBackend {
                pid: BackendPid::Param(n),
                ..
            }
            | StatementKind::Sleep {
                seconds: SleepSeconds::Param(n),
                ..
            } => *n,
            StatementKind::Notify {
                channel, payload, ..
            } => [channel, payload]
                .iter()
                .filter_map(|a| match a {
                    TextArg::Param(n) => Some(*n),
                    _ => None,
                })
                .max()
                .unwrap_or(0),
            StatementKind::Set {
                value: Some(TextArg::Param(n)),
                ..
            } => *n,
            StatementKind::AdvisoryLock(call) => call
                .key
                .iter()
                .filter_map(|k| match k {
                    KeyArg::Param(n) => Some(*n),
                    KeyArg::Value(_) | KeyArg::Null => None,
                })
                .max()
                .unwrap_or(0),
            _ => 0,
        }
    }
}

impl SleepSeconds {
    /// A number of seconds (negative: no wait, as in Postgres).
    pub(crate) fn from_seconds(seconds: f64) -> SleepSeconds {
        SleepSeconds::Millis((seconds.max(0.0) * 1000.0).round() as u64)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    Insert,
    Update,
    Delete,
    /// `SELECT ... FOR UPDATE / FOR SHARE`: a read on the partition's writer, which the
    /// session's block then holds, so no other session writes the rows until it ends
    /// (stronger than Postgres' row locks, and what the single writer makes possible).
    /// Also a query that calls setval() or nextval(), which write.
    LockRows,
    /// `LOCK TABLE t`: the partitions' writers taken for the block (a write of nothing).
    LockTable,
}

/// One statement, planned: where it goes, and the SQLite SQL to run there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStatement {
    pub kind: StatementKind,
    /// The statement as SQLite runs it; `$n` parameters are rewritten to `?n`. Empty for a
    /// statement that has nothing to do in SQLite (plain VACUUM).
    pub sqlite_sql: String,
    /// `sqlite_sql` holds several statements that run together, atomically.
    pub batch: bool,
    /// Highest `$n` used.
    pub param_count: usize,
    /// The translation depends on the types of the columns of [`Self::tables`]
    /// (`pg_typeof(x)`, `flag = 't'`, `price * 2`), which planning did not have: run the
    /// plan [`crate::plan_with_schema`] makes with them.
    pub needs_schema: bool,
    /// The data-modifying statements of its WITH, which run first, in order; then the
    /// statement [`crate::plan_reading_returned`] makes with the rows they returned.
    pub modifying_ctes: Vec<PlannedStatement>,
    /// A routing hint from a comment in the statement (`/* partition: 2 */`).
    pub hint: Option<Hint>,
    /// NOTICEs Postgres sends about the statement's text (a truncated identifier).
    pub notices: Vec<String>,
    /// The parsed Postgres statement (before translation), for type inference. `None` for
    /// statements parsed by hand (COPY, VACUUM).
    pub(crate) ast: Option<Statement>,
    /// `ast` as text, made the first time it is asked for: the key of a repeated
    /// statement's plans, which must not cost a rendering on every execution.
    pub(crate) ast_text: OnceLock<String>,
}

impl PlannedStatement {
    /// A statement with nothing to run in SQLite: the proxy or the storage directory
    /// carries it out (EXPLAIN, CREATE DATABASE, a signal to another session).
    pub(crate) fn outside_sqlite(kind: StatementKind, param_count: usize) -> PlannedStatement {
        PlannedStatement {
            kind,
            sqlite_sql: String::new(),
            batch: false,
            param_count,
            needs_schema: false,
            modifying_ctes: Vec::new(),
            hint: None,
            notices: Vec::new(),
            ast: None,
            ast_text: OnceLock::new(),
        }
    }

    /// A schema statement parsed by hand (VACUUM, SET CONSTRAINTS): its SQLite statements,
    /// run together as one batch when `batch`.
    pub(crate) fn hand_parsed(
        tag: &'static str,
        statements: Vec<String>,
        batch: bool,
    ) -> PlannedStatement {
        PlannedStatement {
            sqlite_sql: statements.join(";\n"),
            batch,
            ..PlannedStatement::outside_sqlite(StatementKind::Ddl(tag), 0)
        }
    }

    /// Whether the client gets rows back (a query, or DML with RETURNING).
    pub fn returns_rows(&self) -> bool {
        if matches!(
            self.kind,
            StatementKind::Show(_)
                | StatementKind::CurrentSetting { .. }
                | StatementKind::Explain(_)
                | StatementKind::SignalBackend { .. }
                | StatementKind::AdvisoryLock(_)
                | StatementKind::Sleep { .. }
                | StatementKind::Fetch { rows: true, .. }
                | StatementKind::Set {
                    answer: Some(_),
                    ..
                }
        ) {
            return true;
        }
        match &self.ast {
            Some(Statement::Query(_)) => true,
            Some(Statement::Insert(i)) => i.returning.is_some(),
            Some(Statement::Update(u)) => u.returning.is_some(),
            Some(Statement::Delete(d)) => d.returning.is_some(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::one;

    #[test]
    fn knows_which_statements_return_rows() {
        assert!(one("select 1").returns_rows());
        assert!(one("insert into t values (1) returning a").returns_rows());
        assert!(!one("insert into t values (1)").returns_rows());
        assert!(!one("create table t (a int)").returns_rows());
    }
}
