//! What the proxy asks of a worker and what it answers, in process or over TCP.
//!
//! In process the messages are passed by value; over TCP each is one frame: a 4-byte
//! little-endian length, then the message in postcard (serde's data model, varint
//! integers, no field names). A link is one TCP connection with one request in flight;
//! the proxy keeps one link to a partition's primary (its writer) and a pool to replicas.
//! Rows travel as SQLite values, in batches, and are encoded for Postgres only in the proxy.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::ShardError;
use crate::value::{ColumnMeta, Outcome, Value};

/// The largest frame either side accepts: a bound on what a broken peer can make us
/// allocate, above any row batch or transaction redo litescale sends.
const MAX_FRAME: usize = 1 << 30;

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
}

impl Request {
    /// Whether a success commits a transaction (see durability.rs).
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

fn encode(message: &impl Serialize) -> Result<Vec<u8>, ShardError> {
    let mut frame = vec![0; 4];
    postcard::to_io(message, &mut frame)
        .map_err(|e| ShardError::new("XX000", format!("cannot encode a worker message: {e}")))?;
    let len = u32::try_from(frame.len() - 4)
        .map_err(|_| ShardError::new("54000", "worker message too large"))?;
    frame[..4].copy_from_slice(&len.to_le_bytes());
    Ok(frame)
}

fn decode<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ShardError> {
    postcard::from_bytes(body)
        .map_err(|e| ShardError::new("08P01", format!("malformed worker message: {e}")))
}

fn frame_len(header: [u8; 4]) -> Result<usize, ShardError> {
    let len = u32::from_le_bytes(header) as usize;
    if len > MAX_FRAME {
        return Err(ShardError::new("08P01", "worker message too large"));
    }
    Ok(len)
}

/// Blocking frame I/O, for the worker's link threads.
pub(crate) fn write_sync(out: &mut impl Write, message: &impl Serialize) -> std::io::Result<()> {
    let frame = encode(message).map_err(std::io::Error::other)?;
    out.write_all(&frame)
}

pub(crate) fn read_sync<T: for<'de> Deserialize<'de>>(
    input: &mut impl Read,
) -> std::io::Result<Option<T>> {
    let mut header = [0; 4];
    match input.read_exact(&mut header) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut body = vec![0; frame_len(header).map_err(std::io::Error::other)?];
    input.read_exact(&mut body)?;
    decode(&body).map(Some).map_err(std::io::Error::other)
}

/// Async frame I/O, for the proxy's links.
pub(crate) async fn write_async(
    out: &mut (impl AsyncWriteExt + Unpin),
    message: &impl Serialize,
) -> std::io::Result<()> {
    let frame = encode(message).map_err(std::io::Error::other)?;
    out.write_all(&frame).await?;
    out.flush().await
}

pub(crate) async fn read_async<T: for<'de> Deserialize<'de>>(
    input: &mut (impl AsyncReadExt + Unpin),
) -> std::io::Result<T> {
    let mut header = [0; 4];
    input.read_exact(&mut header).await?;
    let mut body = vec![0; frame_len(header).map_err(std::io::Error::other)?];
    input.read_exact(&mut body).await?;
    decode(&body).map_err(std::io::Error::other)
}
