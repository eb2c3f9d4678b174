//! The admin console: a client connected to the reserved database `litescale` (as an
//! admin user) gets commands in the style of pgbouncer's console instead of SQL:
//! SHOW PARTITIONS | WORKERS | CLIENTS | STATS | USAGE | CONFIG, RELOAD, PAUSE, RESUME,
//! KILL pid.
//! Answers are text tables, so psql prints them well.

use std::sync::Arc;
use std::time::SystemTime;

use litescale_config::Config;
use litescale_shard::WorkerGroup;

use crate::error::SqlError;
use crate::server::shared::Server;
use crate::session::interrupts::signal::{BackendSignals, Sender};

/// Marks a connection as the admin console's.
pub(crate) struct AdminSession;

/// Whether `user` is an admin: may open the console and signal any session. With no
/// users configured, whoever the rules let in.
pub(crate) fn is_admin(config: &Config, user: &str) -> bool {
    config.users.is_empty() || config.user(user).is_some_and(|u| u.admin)
}

/// May `user` open the console?
pub(crate) fn authorize(config: &Config, user: &str) -> Result<(), SqlError> {
    if is_admin(config, user) {
        Ok(())
    } else {
        Err(SqlError::new(
            "42501",
            format!("permission denied: user \"{user}\" is not an admin"),
        ))
    }
}

/// What a console command answers.
pub(crate) enum Answer {
    Table {
        columns: Vec<&'static str>,
        rows: Vec<Vec<Option<String>>>,
    },
    Done {
        tag: &'static str,
        notice: Option<String>,
    },
}

fn table(columns: &[&'static str], rows: Vec<Vec<String>>) -> Answer {
    Answer::Table {
        columns: columns.to_vec(),
        rows: rows
            .into_iter()
            .map(|r| r.into_iter().map(Some).collect())
            .collect(),
    }
}

/// Runs one console command.
pub(crate) async fn run(server: &Server, text: &str) -> Result<Answer, SqlError> {
    // Arguments keep their case (database names); keywords are matched in upper case.
    let args: Vec<&str> = text
        .trim()
        .trim_end_matches(';')
        .split_whitespace()
        .collect();
    let words: Vec<String> = text
        .trim()
        .trim_end_matches(';')
        .split_whitespace()
        .map(str::to_ascii_uppercase)
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["SHOW", "PARTITIONS"] => Ok(partitions(server)),
        ["SHOW", "WORKERS"] => Ok(workers(server)),
        ["SHOW", "CLIENTS"] => Ok(clients(server)),
        ["SHOW", "STATS"] => Ok(stats(server)),
        ["SHOW", "USAGE"] => Ok(usage(server)),
        ["SHOW", "CONFIG"] => Ok(config(server)),
        ["RELOAD"] => {
            let restart = server.reload().map_err(|e| {
                SqlError::new(
                    "F0000",
                    format!("RELOAD refused, the old configuration stays: {e}"),
                )
            })?;
            Ok(Answer::Done {
                tag: "RELOAD",
                notice: (!restart.is_empty()).then(|| {
                    format!(
                        "changed, and applied only after a restart: {}",
                        restart.join(", ")
                    )
                }),
            })
        }
        ["PAUSE"] => {
            server.paused.send_replace(true);
            Ok(Answer::Done {
                tag: "PAUSE",
                notice: Some("new queries wait until RESUME".to_owned()),
            })
        }
        ["KILL", pid] => {
            let pid: i32 = pid
                .parse()
                .map_err(|_| SqlError::new("22023", format!("invalid pid \"{pid}\"")))?;
            let signal = litescale_router::Signal::Terminate;
            if !server.backends.signal(pid, signal, Sender::Console)? {
                return Err(SqlError::new(
                    "42704",
                    format!("no client with pid {pid}; see SHOW CLIENTS"),
                ));
            }
            Ok(Answer::Done {
                tag: "KILL",
                notice: Some(format!(
                    "client {pid} is terminated; its open transaction is rolled back"
                )),
            })
        }
        ["RESUME"] => {
            server.paused.send_replace(false);
            Ok(Answer::Done {
                tag: "RESUME",
                notice: None,
            })
        }
        ["PROMOTE", id] => {
            let id = worker_id(id)?;
            group_of(server, id)?
                .promote_worker(id)
                .await
                .map_err(SqlError::from)?;
            Ok(Answer::Done {
                tag: "PROMOTE",
                notice: Some(format!("worker {id} is the primary")),
            })
        }
        ["ADD", "REPLICA", ..] => {
            let (database, partition) = match args[2..] {
                [partition] => (litescale_config::DEFAULT_DATABASE, partition),
                [database, partition] => (database, partition),
                _ => {
                    return Err(SqlError::new(
                        "42601",
                        "usage: ADD REPLICA [database] partition",
                    ));
                }
            };
            let partition: usize = partition.parse().map_err(|_| {
                SqlError::new("22023", format!("invalid partition \"{partition}\""))
            })?;
            let db = server.storage.database(database).map_err(SqlError::from)?;
            let group = db
                .partitions
                .get(partition)
                .ok_or_else(|| SqlError::new("22023", format!("no partition {partition}")))?
                .workers()
                .ok_or_else(|| {
                    SqlError::new(
                        "0A000",
                        "replicas need [workers] mode = \"processes\"; this server runs its workers in process",
                    )
                })?
                .clone();
            let added = group.add_replica().await.map_err(SqlError::from)?;
            Ok(Answer::Done {
                tag: "ADD REPLICA",
                notice: Some(format!(
                    "worker {} (pid {}) serves reads at {}",
                    added.id, added.pid, added.addr
                )),
            })
        }
        ["REMOVE", "WORKER", id] => {
            let id = worker_id(id)?;
            group_of(server, id)?
                .remove_worker(id)
                .map_err(SqlError::from)?;
            Ok(Answer::Done {
                tag: "REMOVE WORKER",
                notice: Some(format!("worker {id} is stopping")),
            })
        }
        _ => Err(SqlError::new(
            "42601",
            format!(
                "unknown console command \"{}\"; try SHOW PARTITIONS, WORKERS, CLIENTS, STATS, USAGE, CONFIG, RELOAD, PAUSE, RESUME or KILL pid",
                text.trim()
            ),
        )),
    }
}

fn partitions(server: &Server) -> Answer {
    let mut rows = Vec::new();
    for (name, db) in server.storage.open_databases() {
        for (i, p) in db.partitions.iter().enumerate() {
            let bytes = std::fs::metadata(p.path()).map_or(0, |m| m.len());
            rows.push(vec![
                name.clone(),
                i.to_string(),
                p.path().display().to_string(),
                bytes.to_string(),
            ]);
        }
    }
    table(&["database", "partition", "file", "bytes"], rows)
}

fn worker_id(text: &str) -> Result<u64, SqlError> {
    text.parse()
        .map_err(|_| SqlError::new("22023", format!("invalid worker id \"{text}\"")))
}

fn group_of(server: &Server, id: u64) -> Result<Arc<WorkerGroup>, SqlError> {
    server
        .storage
        .worker_groups()
        .into_iter()
        .find(|g| g.describe().iter().any(|w| w.id == id))
        .ok_or_else(|| SqlError::new("42704", format!("no worker {id}; see SHOW WORKERS")))
}

fn workers(server: &Server) -> Answer {
    let pid = std::process::id().to_string();
    let mut rows = Vec::new();
    for (name, db) in server.storage.open_databases() {
        for (i, partition) in db.partitions.iter().enumerate() {
            let Some(group) = partition.workers() else {
                rows.push(vec![
                    "-".to_owned(),
                    name.clone(),
                    i.to_string(),
                    "primary".to_owned(),
                    "in-process".to_owned(),
                    "running".to_owned(),
                    pid.clone(),
                    "-".to_owned(),
                ]);
                continue;
            };
            if group.is_asleep() {
                rows.push(vec![
                    "-".to_owned(),
                    name.clone(),
                    i.to_string(),
                    "-".to_owned(),
                    "-".to_owned(),
                    "asleep".to_owned(),
                    "-".to_owned(),
                    "-".to_owned(),
                ]);
            }
            for w in group.describe() {
                rows.push(vec![
                    w.id.to_string(),
                    w.database,
                    w.partition.to_string(),
                    w.role.as_str().to_owned(),
                    w.addr.to_string(),
                    w.state.to_owned(),
                    w.pid.to_string(),
                    w.reads.to_string(),
                ]);
            }
        }
    }
    table(
        &[
            "worker",
            "database",
            "partition",
            "role",
            "address",
            "state",
            "pid",
            "reads",
        ],
        rows,
    )
}

/// Every session: who, where, in what state, and which partitions' writers its
/// transaction block holds since when (a holder makes every other writer there wait; KILL
/// ends it).
fn clients(server: &Server) -> Answer {
    let now = SystemTime::now();
    let seconds = |since: SystemTime| now.duration_since(since).map_or(0, |d| d.as_secs());
    let mut rows: Vec<(i32, Vec<String>)> = server
        .backends
        .by_pid
        .iter()
        .map(|entry| {
            let c = entry.value();
            let session = c.session.upgrade();
            let state = match &session {
                None => "closing",
                Some(session) => match session.state.try_lock() {
                    Err(_) => "active",
                    Ok(state) => match state.transaction_status() {
                        pgwire::messages::response::TransactionStatus::Idle => "idle",
                        pgwire::messages::response::TransactionStatus::Transaction => {
                            "idle in transaction"
                        }
                        pgwire::messages::response::TransactionStatus::Error => {
                            "idle in transaction (aborted)"
                        }
                    },
                },
            };
            let writer = session.and_then(|s| s.holding.get());
            let (partitions, held) = match writer {
                Some((partitions, since)) => (
                    partitions
                        .iter()
                        .map(usize::to_string)
                        .collect::<Vec<_>>()
                        .join(","),
                    seconds(since).to_string(),
                ),
                None => (String::new(), String::new()),
            };
            (
                *entry.key(),
                vec![
                    entry.key().to_string(),
                    c.user.clone(),
                    c.database.clone(),
                    c.address.clone(),
                    state.to_owned(),
                    seconds(c.since).to_string(),
                    partitions,
                    held,
                ],
            )
        })
        .collect();
    rows.sort_by_key(|(pid, _)| *pid);
    table(
        &[
            "pid",
            "user",
            "database",
            "address",
            "state",
            "connected_seconds",
            "writer_partitions",
            "writer_seconds",
        ],
        rows.into_iter().map(|(_, r)| r).collect(),
    )
}

fn stats(server: &Server) -> Answer {
    let rows = server
        .storage
        .open_databases()
        .into_iter()
        .map(|(name, db)| {
            let clients = server
                .backends
                .by_pid
                .iter()
                .filter(|c| c.value().database == name)
                .count();
            let u = db.usage.snapshot();
            let avg_us = u.compute_nanos.checked_div(u.statements).unwrap_or(0) / 1_000;
            vec![
                name,
                db.partitions.len().to_string(),
                clients.to_string(),
                u.statements.to_string(),
                avg_us.to_string(),
            ]
        })
        .collect();
    table(
        &[
            "database",
            "partitions",
            "clients",
            "statements",
            "avg_statement_us",
        ],
        rows,
    )
}

fn usage(server: &Server) -> Answer {
    let rows = server
        .storage
        .open_databases()
        .into_iter()
        .map(|(name, db)| {
            let u = db.usage.snapshot();
            let bytes = server.storage.bytes_stored(&name);
            vec![
                name,
                u.statements.to_string(),
                u.rows_returned.to_string(),
                u.rows_written.to_string(),
                format!("{:.6}", u.compute_nanos as f64 / 1e9),
                bytes.to_string(),
            ]
        })
        .collect();
    table(
        &[
            "database",
            "statements",
            "rows_returned",
            "rows_written",
            "compute_seconds",
            "storage_bytes",
        ],
        rows,
    )
}

fn config(server: &Server) -> Answer {
    let c = server.config();
    let opt = |v: Option<String>| v.unwrap_or_default();
    let rows = vec![
        ("listen", c.listen.to_string()),
        ("data_dir", c.data_dir.display().to_string()),
        (
            "metrics_listen",
            opt(c.metrics_listen.map(|a| a.to_string())),
        ),
        ("log_level", c.log_level.clone()),
        (
            "storage.synchronous",
            c.storage.synchronous.as_pragma().to_lowercase(),
        ),
        (
            "storage.busy_timeout_ms",
            c.storage.busy_timeout_ms.to_string(),
        ),
        ("storage.idle_readers", c.storage.idle_readers.to_string()),
        (
            "limits.statement_cache",
            c.limits.statement_cache.to_string(),
        ),
        (
            "limits.max_connections",
            c.limits.max_connections.to_string(),
        ),
        ("limits.max_message_mb", c.limits.max_message_mb.to_string()),
        ("limits.max_result_mb", c.limits.max_result_mb.to_string()),
        (
            "partitions.count",
            opt(c.partitions.as_ref().map(|p| p.count.to_string())),
        ),
        ("tables", c.tables.len().to_string()),
        ("users", c.users.len().to_string()),
        ("auth rules", c.auth_rules().len().to_string()),
        (
            "tls",
            opt(c
                .tls
                .as_ref()
                .map(|t| if t.required { "required" } else { "optional" }.to_owned())),
        ),
    ];
    table(
        &["name", "value"],
        rows.into_iter()
            .map(|(k, v)| vec![k.to_owned(), v])
            .collect(),
    )
}
