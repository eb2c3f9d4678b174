//! Statements that touch no table: SET, RESET and SHOW; CREATE and DROP DATABASE;
//! pg_cancel_backend and pg_terminate_backend; advisory locks; pg_sleep.

use litescale_router::{
    AdvisoryAction, AdvisoryLockCall, BackendPid, KeyArg, Signal, SleepSeconds, TextArg,
};
use litescale_shard::{ColumnMeta, Rows, Value};

use crate::error::SqlError;
use crate::session::advisory_locks::AdvisoryKey;
use crate::session::execute::reply::{Executed, Reply};
use crate::session::interrupts::signal::{Sender, terminated_by_administrator};
use crate::session::settings;
use crate::session::state::{Block, Session, SessionState};

impl SessionState {
    /// SET; a `local` one is undone when the block ends, and outside one does nothing.
    /// set_config's `answer` is the new value, in a column of that name.
    pub(super) fn set(
        &mut self,
        name: &str,
        value: Option<&str>,
        local: bool,
        answer: Option<&str>,
    ) -> Result<Reply, SqlError> {
        if local {
            let Block::Open(block) = &mut self.block else {
                return Ok(Reply::command("SET")
                    .warn("25P01", "SET LOCAL can only be used in transaction blocks"));
            };
            if !block.set_locally.iter().any(|(n, _)| n == name) {
                block
                    .set_locally
                    .push((name.to_owned(), self.settings.clone()));
            }
        }
        let status = self.settings.set(name, value)?;
        let mut reply = match answer {
            Some(column) => Reply {
                executed: Executed::Rows {
                    rows: Rows {
                        columns: vec![ColumnMeta {
                            name: column.to_owned(),
                            decl_type: Some("text".to_owned()),
                        }],
                        rows: vec![vec![Value::Text(self.settings.show(name)?)]],
                    },
                    tag: "SELECT",
                },
                notice: None,
                parameter_status: None,
            },
            None => Reply::command("SET"),
        };
        reply.parameter_status = status;
        Ok(reply)
    }

    pub(super) fn reset(&mut self, name: Option<&str>) -> Result<Reply, SqlError> {
        let mut reply = Reply::command("RESET");
        match name {
            Some(n) => reply.parameter_status = self.settings.set(n, None)?,
            None => self.settings.reset_all(),
        }
        Ok(reply)
    }

    pub(super) fn show(&self, name: &str) -> Result<Reply, SqlError> {
        if name == "all" {
            return Ok(show_all_reply(self.settings.all()));
        }
        Ok(show_reply(name, self.settings.show(name)?))
    }

    /// `SELECT current_setting(name)`: SHOW's value under the call's column name.
    pub(super) fn current_setting(
        &self,
        name: &str,
        missing_ok: bool,
        answer: &str,
    ) -> Result<Reply, SqlError> {
        let value = match self.settings.show(name) {
            Ok(value) => Value::Text(value),
            Err(_) if missing_ok => Value::Null,
            Err(e) => return Err(e),
        };
        let columns = vec![ColumnMeta {
            name: answer.to_owned(),
            decl_type: Some("text".to_owned()),
        }];
        Ok(Reply {
            executed: Executed::Rows {
                rows: Rows {
                    columns,
                    rows: vec![vec![value]],
                },
                tag: "SELECT",
            },
            notice: None,
            parameter_status: None,
        })
    }

    pub(super) fn create_database(
        &self,
        session: &Session,
        name: &str,
        if_not_exists: bool,
    ) -> Result<Reply, SqlError> {
        let storage = self.database_admin(session, "CREATE DATABASE")?;
        if name == crate::ADMIN_DATABASE {
            return Err(SqlError::new(
                "42939",
                format!("\"{name}\" is reserved for the admin console"),
            ));
        }
        let created = storage.create_database(name, if_not_exists)?;
        let reply = Reply::command("CREATE DATABASE");
        Ok(if created {
            reply
        } else {
            reply.notice(format!("database \"{name}\" already exists, skipping"))
        })
    }

    pub(super) fn drop_database(
        &self,
        session: &Session,
        name: &str,
        if_exists: bool,
    ) -> Result<Reply, SqlError> {
        let storage = self.database_admin(session, "DROP DATABASE")?;
        if *name == session.context.database {
            return Err(SqlError::new(
                "55006",
                "cannot drop the currently open database",
            ));
        }
        let dropped = storage.drop_database(name, if_exists)?;
        // A database made again under its name has other tables.
        session.column_cache.schema_changed();
        let reply = Reply::command("DROP DATABASE");
        Ok(if dropped {
            reply
        } else {
            reply.notice(format!("database \"{name}\" does not exist, skipping"))
        })
    }

    /// The storage, for CREATE/DROP DATABASE, which cannot run inside a transaction block.
    fn database_admin(
        &self,
        session: &Session,
        command: &str,
    ) -> Result<std::sync::Arc<litescale_shard::Storage>, SqlError> {
        if !self.is_idle() {
            return Err(SqlError::new(
                "25001",
                format!("{command} cannot run inside a transaction block"),
            ));
        }
        session.storage.clone().ok_or_else(|| {
            SqlError::new(
                "42501",
                format!("permission denied: {command} needs a user with create_databases"),
            )
        })
    }
}

/// `SELECT pg_cancel_backend(pid)` / `pg_terminate_backend(pid)`: true when the session
/// was signalled, false (with a warning) when there is none, NULL for a NULL pid. Ending
/// one's own session ends it at once, as in Postgres.
pub(super) fn signal_backend(
    session: &Session,
    signal: Signal,
    pid: BackendPid,
    column: &str,
    params: &[Value],
) -> Result<Reply, SqlError> {
    let pid = match pid {
        BackendPid::Pid(pid) => Some(pid),
        BackendPid::Null => None,
        BackendPid::Param(n) => match params.get(n - 1) {
            Some(Value::Integer(i)) => Some(
                i32::try_from(*i).map_err(|_| SqlError::new("22003", "integer out of range"))?,
            ),
            _ => None,
        },
    };
    let answered = match pid {
        None => None,
        Some(pid) if pid == session.context.backend_pid => {
            return Err(match signal {
                Signal::Cancel => SqlError::canceled(),
                Signal::Terminate => {
                    session.terminate(terminated_by_administrator());
                    terminated_by_administrator()
                }
            });
        }
        Some(pid) => {
            let backends = session.backends.as_ref().ok_or_else(|| {
                SqlError::new(
                    "0A000",
                    format!("{}() needs a running server", signal.function()),
                )
            })?;
            let sender = Sender::User {
                name: &session.context.user,
                admin: session.admin,
            };
            Some((pid, backends.signal(pid, signal, sender)?))
        }
    };
    let reply = one_value(
        column,
        "boolean",
        answered.map_or(Value::Null, |(_, found)| Value::Integer(i64::from(found))),
    );
    Ok(match answered {
        Some((pid, false)) => reply.warn(
            "01000",
            format!("PID {pid} is not a litescale backend process"),
        ),
        _ => reply,
    })
}

/// SHOW's answer for one setting.
pub(super) fn show_reply(name: &str, value: String) -> Reply {
    show_rows_reply(name, vec![(name.to_owned(), value)])
}

fn show_all_reply(pairs: Vec<(String, String)>) -> Reply {
    show_rows_reply("all", pairs)
}

fn show_rows_reply(name: &str, pairs: Vec<(String, String)>) -> Reply {
    Reply {
        executed: Executed::Rows {
            rows: show_rows(name, pairs),
            tag: "SHOW",
        },
        notice: None,
        parameter_status: None,
    }
}

fn show_rows(name: &str, pairs: Vec<(String, String)>) -> Rows {
    let text = || Some("text".to_owned());
    let columns = if name == "all" {
        vec![
            ColumnMeta {
                name: "name".into(),
                decl_type: text(),
            },
            ColumnMeta {
                name: "setting".into(),
                decl_type: text(),
            },
        ]
    } else {
        vec![ColumnMeta {
            name: settings::column_name(name).to_owned(),
            decl_type: text(),
        }]
    };
    let rows = pairs
        .into_iter()
        .map(|(n, v)| {
            if name == "all" {
                vec![Value::Text(n), Value::Text(v)]
            } else {
                vec![Value::Text(v)]
            }
        })
        .collect();
    Rows { columns, rows }
}

/// pg_advisory_lock and its family, on the session's advisory locks. A transaction-level
/// lock taken outside a block (`in_block`) lasts for its statement alone, as in Postgres'
/// implicit transaction; a NULL key answers NULL.
pub(super) async fn advisory_lock(
    session: &Session,
    call: &AdvisoryLockCall,
    params: &[Value],
    in_block: bool,
) -> Result<Reply, SqlError> {
    let locks = &session.advisory;
    let key = advisory_key(&call.key, params)?;
    let mut not_held = false;
    let answer = match (call.action, key) {
        (AdvisoryAction::UnlockAll, _) => {
            locks.release_all(false);
            Value::Text(String::new())
        }
        (_, None) => Value::Null,
        (AdvisoryAction::Lock, Some(key)) => {
            locks
                .lock(key, call.shared, call.transaction, &session.cancel)
                .await?;
            Value::Text(String::new())
        }
        (AdvisoryAction::TryLock, Some(key)) => Value::Integer(i64::from(locks.try_lock(
            key,
            call.shared,
            call.transaction,
        ))),
        (AdvisoryAction::Unlock, Some(key)) => {
            let released = locks.unlock(key, call.shared);
            not_held = !released;
            Value::Integer(i64::from(released))
        }
    };
    if call.transaction && !in_block {
        locks.release_all(true);
    }
    let answer_type = if call.answers_boolean() {
        "boolean"
    } else {
        "void"
    };
    let reply = one_value(&call.column, answer_type, answer);
    Ok(if not_held {
        let mode = if call.shared {
            "ShareLock"
        } else {
            "ExclusiveLock"
        };
        reply.warn("01000", format!("you don't own a lock of type {mode}"))
    } else {
        reply
    })
}

/// pg_sleep: waits in the proxy (a cancel or statement_timeout ends the wait with 57014)
/// and answers one void column, NULL for a NULL argument.
pub(super) async fn sleep(
    session: &Session,
    seconds: SleepSeconds,
    column: &str,
    params: &[Value],
) -> Result<Reply, SqlError> {
    let millis = match seconds {
        SleepSeconds::Millis(ms) => Some(ms),
        SleepSeconds::Null => None,
        SleepSeconds::Param(n) => match params.get(n - 1) {
            Some(Value::Real(s)) => Some((s.max(0.0) * 1000.0).round() as u64),
            Some(Value::Integer(s)) => Some(u64::try_from(*s).unwrap_or(0) * 1000),
            Some(Value::Text(t)) => {
                let s: f64 = t.trim().parse().map_err(|_| {
                    SqlError::new(
                        "22P02",
                        format!("invalid input syntax for type double precision: \"{t}\""),
                    )
                })?;
                Some((s.max(0.0) * 1000.0).round() as u64)
            }
            _ => None,
        },
    };
    if let Some(ms) = millis {
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_millis(ms)) => {}
            () = session.cancel.canceled() => return Err(SqlError::canceled()),
        }
    }
    let answer = if millis.is_some() {
        Value::Text(String::new())
    } else {
        Value::Null
    };
    Ok(one_value(column, "void", answer))
}

/// A text argument of a call the proxy answers; `None` for NULL.
pub(super) fn text_arg(arg: &TextArg, params: &[Value]) -> Result<Option<String>, SqlError> {
    Ok(match arg {
        TextArg::Text(t) => Some(t.clone()),
        TextArg::Null => None,
        TextArg::Param(n) => match params.get(n - 1) {
            Some(Value::Null) | None => None,
            Some(Value::Text(t)) => Some(t.clone()),
            Some(Value::Integer(i)) => Some(i.to_string()),
            Some(Value::Real(f)) => Some(f.to_string()),
            Some(Value::Blob(_)) => {
                return Err(SqlError::new(
                    "42804",
                    format!("argument ${n} must be text"),
                ));
            }
        },
    })
}

/// The answer of a lone call of a void function (pg_notify).
pub(super) fn void_answer(column: &str) -> Reply {
    one_value(column, "void", Value::Text(String::new()))
}

/// A SELECT's answer of one row of one column, declared `decl_type`.
fn one_value(column: &str, decl_type: &str, value: Value) -> Reply {
    Reply {
        executed: Executed::Rows {
            rows: Rows {
                columns: vec![ColumnMeta {
                    name: column.to_owned(),
                    decl_type: Some(decl_type.to_owned()),
                }],
                rows: vec![vec![value]],
            },
            tag: "SELECT",
        },
        notice: None,
        parameter_status: None,
    }
}

/// The key of an advisory lock call: one bigint, or two integers; `None` for a NULL
/// argument (or none, for pg_advisory_unlock_all).
fn advisory_key(args: &[KeyArg], params: &[Value]) -> Result<Option<AdvisoryKey>, SqlError> {
    let mut values = Vec::with_capacity(args.len());
    for arg in args {
        let value = match arg {
            KeyArg::Value(v) => *v,
            KeyArg::Null => return Ok(None),
            KeyArg::Param(n) => match params.get(n - 1) {
                Some(Value::Integer(i)) => *i,
                Some(Value::Text(t)) => t.trim().parse().map_err(|_| {
                    SqlError::new(
                        "22P02",
                        format!("invalid input syntax for type bigint: \"{t}\""),
                    )
                })?,
                _ => return Ok(None),
            },
        };
        values.push(value);
    }
    let int = |v: i64| i32::try_from(v).map_err(|_| SqlError::new("22003", "integer out of range"));
    Ok(match values.as_slice() {
        [key] => Some(AdvisoryKey::Big(*key)),
        [a, b] => Some(AdvisoryKey::Pair(int(*a)?, int(*b)?)),
        _ => None,
    })
}
