//! What a statement answers: rows, a stream of rows, a command tag, a COPY to start, and
//! the WARNING or ParameterStatus that goes before it. The wire layer turns these into
//! messages; nothing here knows the protocol.

use litescale_router::{CopyFormat, StatementKind, WriteKind};
use litescale_shard::{Outcome, RowStream, Rows};

use crate::error::SqlError;
use crate::session::interrupts::timer::StatementTimer;

/// What a statement answered.
#[derive(Debug)]
pub enum Executed {
    /// Rows, with the command tag that precedes the row count ("SELECT", "INSERT 0").
    Rows { rows: Rows, tag: &'static str },
    /// A complete command tag ("CREATE TABLE", "UPDATE 3").
    Command(String),
    /// COPY TO STDOUT: the rows to send, in the COPY's format.
    CopyOut { rows: Rows, format: CopyFormat },
    /// COPY TO STDOUT streamed from a reader, for a COPY outside a writing transaction.
    CopyOutStream { rows: RowStream, format: CopyFormat },
    /// A query's rows streamed from a reader as the client takes them, so a huge result
    /// never sits in memory. `timer` keeps statement_timeout running until it ends.
    RowsStream {
        rows: RowStream,
        timer: Option<StatementTimer>,
    },
    /// COPY FROM STDIN has started; the client sends this many columns per row.
    CopyIn { columns: usize },
}

#[derive(Debug)]
pub struct Reply {
    pub executed: Executed,
    /// A WARNING or NOTICE to send first (e.g. BEGIN inside a transaction block), with
    /// its severity.
    pub notice: Option<(&'static str, SqlError)>,
    /// A changed setting Postgres reports to clients with a ParameterStatus message.
    pub parameter_status: Option<(String, String)>,
}

impl Reply {
    pub(super) fn command(tag: impl Into<String>) -> Reply {
        Reply {
            executed: Executed::Command(tag.into()),
            notice: None,
            parameter_status: None,
        }
    }

    pub(super) fn warn(mut self, sqlstate: &'static str, message: impl Into<String>) -> Reply {
        self.notice = Some(("WARNING", SqlError::new(sqlstate, message)));
        self
    }

    pub(super) fn notice(mut self, message: String) -> Reply {
        self.notice = Some(("NOTICE", SqlError::new("00000", message)));
        self
    }
}

pub(super) fn command_name(kind: &StatementKind) -> &'static str {
    match kind {
        StatementKind::Write(WriteKind::Insert) => "INSERT",
        StatementKind::Write(WriteKind::Update) => "UPDATE",
        StatementKind::Write(WriteKind::Delete) => "DELETE",
        StatementKind::Write(WriteKind::LockTable) => "LOCK TABLE",
        StatementKind::Ddl(tag) => tag,
        _ => "SELECT",
    }
}

pub(super) fn executed(kind: &StatementKind, outcome: Outcome) -> Executed {
    match outcome {
        Outcome::Rows(mut rows) => {
            crate::values::encode::shape_declared(&mut rows);
            Executed::Rows {
                rows,
                tag: match kind {
                    StatementKind::Write(WriteKind::Insert) => "INSERT 0",
                    other => command_name(other),
                },
            }
        }
        Outcome::Changed(n) => Executed::Command(match kind {
            StatementKind::Write(WriteKind::Insert) => format!("INSERT 0 {n}"),
            StatementKind::Write(WriteKind::LockTable) => "LOCK TABLE".to_owned(),
            StatementKind::Write(_) => format!("{} {n}", command_name(kind)),
            StatementKind::Read => "SELECT 0".to_owned(),
            other => command_name(other).to_owned(),
        }),
    }
}
