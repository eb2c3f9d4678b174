//! What a partition asks of its SQLite and what it answers: the same messages whether the
//! engine serves them in this process (passed by value) or a worker process does (framed
//! over TCP, workers/protocol.rs). The proxy keeps one link to a partition's primary (its
//! writer) and a pool to replicas. Rows travel as SQLite values, in batches, and are
//! encoded for Postgres only in the proxy.

use serde::{Deserialize, Serialize};

use crate::error::ShardError;
use crate::value::{ColumnMeta, Outcome, Value};

/// Rows per frame of a streamed result.
pub(crate) const STREAM_BATCH_ROWS: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    Primary,
    Replica,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Replica => "replica",
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Request {
    /// The first message on a link: what the link is for. `writer` links go to the
    /// primary and carry transactions; the others only read.
    Hello {
        writer: bool,
    },
    /// A statement on a reader; `Response::MaybeOutcome(None)` when it would write.
    Read {
        sql: String,
        params: Vec<Value>,
        /// Bytes the result may hold, when tighter than `limits.max_result_mb` (a read
        /// tried whole before it is streamed); past it the answer is 54000.
        budget: Option<u64>,
    },
    /// A read streamed back: `Columns`, then `Rows` batches, then `End` (or `Error`).
    Stream {
        sql: String,
        params: Vec<Value>,
    },
    Describe {
        sql: String,
    },
    TableColumns {
        tables: Vec<String>,
    },
    /// Autocommit statements of several sessions in one transaction (group commit), each
    /// in a savepoint: answered with one result per statement.
    WriteGroup {
        writes: Vec<(String, Vec<Value>)>,
    },
    /// Several statements (no parameters, no rows) in their own transaction.
    WriteBatch {
        sql: String,
    },
    /// A statement SQLite cannot run in a transaction (VACUUM).
    Maintain {
        sql: String,
    },
    Begin {
        recorded: bool,
    },
    Execute {
        sql: String,
        params: Vec<Value>,
    },
    ExecuteBatch {
        sql: String,
    },
    SchemaChange {
        sql: String,
    },
    InsertRows {
        sql: String,
        rows: Vec<Vec<Value>>,
    },
    Prepare,
    CommitDecided {
        txid: u64,
        forget_below: u64,
    },
    Commit,
    Rollback,
    /// Interrupts what link `link` is running (sent on a link of its own).
    Interrupt {
        link: u64,
    },
    /// Makes a replica the primary: election lock (unless `force`), new epoch.
    Promote {
        force: bool,
    },
    Ping,
    /// The first message on a peer link (replicated storage): another litescale process
    /// forwards the writes of partition `partition` of `database`, which this one is
    /// primary of. Then writer requests, each commit answered `Committed`.
    Forward {
        database: String,
        partition: usize,
        /// The engine's peers' secret: the peer port takes writes from its holders only.
        secret: String,
    },
}

impl Request {
    /// Whether a success commits a transaction (see storage/durability.rs).
    pub fn commits(&self) -> bool {
        matches!(
            self,
            Request::WriteBatch { .. }
                | Request::WriteGroup { .. }
                | Request::Maintain { .. }
                | Request::Commit
                | Request::CommitDecided { .. }
        )
    }

    /// Whether this runs a client's statement (what usage metering counts).
    pub fn is_statement(&self) -> bool {
        matches!(
            self,
            Request::Read { .. }
                | Request::WriteGroup { .. }
                | Request::Stream { .. }
                | Request::WriteBatch { .. }
                | Request::Maintain { .. }
                | Request::Execute { .. }
                | Request::ExecuteBatch { .. }
                | Request::SchemaChange { .. }
                | Request::InsertRows { .. }
        )
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Response {
    Done,
    Outcome(Outcome),
    Outcomes(Vec<Result<Outcome, ShardError>>),
    MaybeOutcome(Option<Outcome>),
    Columns(Vec<ColumnMeta>),
    Tables(Vec<(String, Vec<ColumnMeta>)>),
    Count(u64),
    Redo(Vec<u8>),
    Rows(Vec<Vec<Value>>),
    End,
    Hello {
        link: u64,
        pid: u32,
        role: Role,
        epoch: i64,
    },
    /// On a peer link: a commit's answer, once the log holds it, and the log position
    /// the partition stood at then (the peer waits until its file holds that much).
    Committed {
        body: Box<Response>,
        position: Option<u64>,
    },
    Error(ShardError),
}

/// A response and the time the worker spent on it (for usage metering).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Reply {
    pub busy_nanos: u64,
    pub body: Response,
}

impl Response {
    pub fn unexpected(&self) -> ShardError {
        match self {
            Response::Error(e) => e.clone(),
            other => ShardError::new("XX000", format!("unexpected worker response {other:?}")),
        }
    }
}
