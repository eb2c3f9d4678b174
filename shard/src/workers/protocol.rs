//! The worker protocol's framing: each message is one frame over TCP, a 4-byte
//! little-endian length, then the message in postcard (serde's data model, varint
//! integers, no field names). A link is one TCP connection with one request in flight.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::ShardError;

/// The largest frame either side accepts: a bound on what a broken peer can make us
/// allocate, above any row batch or transaction redo litescale sends.
const MAX_FRAME: usize = 1 << 30;

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
