//! A client's messages, read from its socket one at a time under a size limit
//! (`limits.max_message_mb`). A message's length is checked as soon as its header has
//! arrived, before its body is read: one over the limit is read past, its bytes dropped as
//! they come, and answered with 54000, so a client cannot make its connection hold more
//! than the limit. pgwire's codec takes any message up to 1 GiB, as PostgreSQL does, and
//! has no setting for it; the codec still decodes every message that is let through.

use std::io;
use std::pin::Pin;

use bytes::Buf;
use pgwire::api::{ClientInfo, PgWireConnectionState};
use pgwire::error::PgWireError;
use pgwire::messages::PgWireFrontendMessage;
use pgwire::tokio::server::PgWireMessageServerCodec;
use tokio::io::AsyncRead;
use tokio_util::codec::{Decoder, Framed};

use crate::error::SqlError;

/// What a read asks the socket for at least: the buffer grows by no more than this
/// beyond the message being read.
const READ_CHUNK: usize = 8 * 1024;

/// The longest message PostgreSQL takes (1 GiB less 2 bytes, its PQ_LARGE_MESSAGE_LIMIT).
/// A length past it is no message but a broken stream: the codec refuses it and the
/// connection ends, as in PostgreSQL.
const LONGEST_MESSAGE: usize = 0x3fff_fffe;

/// What the client sent next.
pub(crate) enum Inbound {
    Message(PgWireFrontendMessage),
    /// A message over the limit, read past: its type byte, and the error to answer.
    TooLarge {
        tag: u8,
        error: SqlError,
    },
}

impl Inbound {
    /// Whether a message of this type byte belongs to an extended-query batch (Parse,
    /// Bind, Describe, Execute, Close, Flush, Sync), after whose error the rest of the
    /// batch is skipped until Sync.
    pub(crate) fn is_extended_query(tag: u8) -> bool {
        matches!(tag, b'P' | b'B' | b'D' | b'E' | b'C' | b'H' | b'S')
    }
}

/// A connection's reading of messages under the limit. It keeps what it is in the middle
/// of, so that reading a message is safe to cancel and resume.
pub(crate) struct MessageReader {
    /// The most bytes a message may have (its length field counts itself and the body).
    limit: usize,
    dropping: Option<Dropping>,
}

/// A message over the limit, being read past.
struct Dropping {
    tag: u8,
    len: usize,
    /// Its bytes yet to come, the type byte counted.
    left: usize,
}

impl MessageReader {
    pub(crate) fn new(limit: usize) -> MessageReader {
        MessageReader {
            limit,
            dropping: None,
        }
    }

    /// Whether it is reading past a message (the connection must not move meanwhile:
    /// the next reader would take the rest for messages).
    pub(crate) fn is_dropping(&self) -> bool {
        self.dropping.is_some()
    }

    /// The next message, or `None` when the client has closed the connection.
    pub(crate) async fn next<S, T>(
        &mut self,
        socket: &mut Framed<S, PgWireMessageServerCodec<T>>,
    ) -> Option<Result<Inbound, PgWireError>>
    where
        S: AsyncRead + Unpin + 'static,
    {
        loop {
            // Room to read into: the rest of the message at once when its length is known
            // and it is kept (one allocation of its size), else a chunk.
            let mut wanted = READ_CHUNK;
            if let Some(dropping) = &mut self.dropping {
                let buf = socket.read_buffer_mut();
                let dropped = dropping.left.min(buf.len());
                buf.advance(dropped);
                dropping.left -= dropped;
                if dropping.left == 0 {
                    let Dropping { tag, len, .. } = self.dropping.take()?;
                    return Some(Ok(Inbound::TooLarge {
                        tag,
                        error: self.too_large(len),
                    }));
                }
            } else {
                let header = typed_header(socket);
                if let Some((tag, len)) = header
                    && len > self.limit
                    && len <= LONGEST_MESSAGE
                {
                    self.dropping = Some(Dropping {
                        tag,
                        len,
                        left: len + 1,
                    });
                    continue;
                }
                let mut buf = std::mem::take(socket.read_buffer_mut());
                let decoded = socket.codec_mut().decode(&mut buf);
                *socket.read_buffer_mut() = buf;
                match decoded {
                    Ok(Some(message)) => return Some(Ok(Inbound::Message(message))),
                    Ok(None) => {}
                    Err(e) => return Some(Err(e)),
                }
                if let Some((_, len)) = header {
                    wanted = wanted.max((len + 1).saturating_sub(socket.read_buffer().len()));
                }
            }
            match read_more(socket, wanted).await {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(e.into())),
            }
        }
    }

    fn too_large(&self, len: usize) -> SqlError {
        SqlError::new(
            "54000",
            format!(
                "message of {len} bytes is longer than limits.max_message_mb allows ({} MiB)",
                self.limit / (1024 * 1024)
            ),
        )
    }
}

/// The type byte and length of the message at the head of the buffer, once its header
/// has arrived. Startup-phase messages have no type byte; pgwire's codec keeps them small.
fn typed_header<S: 'static, T>(
    socket: &Framed<S, PgWireMessageServerCodec<T>>,
) -> Option<(u8, usize)> {
    if matches!(
        socket.state(),
        PgWireConnectionState::AwaitingSslRequest | PgWireConnectionState::AwaitingStartup
    ) {
        return None;
    }
    let buf = socket.read_buffer();
    let header: [u8; 5] = buf.get(..5)?.try_into().ok()?;
    let len = i32::from_be_bytes([header[1], header[2], header[3], header[4]]);
    // A negative length is the codec's to refuse.
    Some((header[0], usize::try_from(len).ok()?))
}

/// Reads what the socket has into the read buffer, with room for `wanted` more bytes.
/// Safe to cancel: nothing read is lost.
async fn read_more<S, T>(
    socket: &mut Framed<S, PgWireMessageServerCodec<T>>,
    wanted: usize,
) -> io::Result<usize>
where
    S: AsyncRead + Unpin + 'static,
{
    std::future::poll_fn(|cx| {
        let mut buf = std::mem::take(socket.read_buffer_mut());
        buf.reserve(wanted);
        let polled = tokio_util::io::poll_read_buf(Pin::new(socket.get_mut()), cx, &mut buf);
        *socket.read_buffer_mut() = buf;
        polled
    })
    .await
}
