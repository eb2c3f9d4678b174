//! A client connection's message loop, with batched socket writes.
//!
//! A Postgres response is several messages (BindComplete, DataRow, CommandComplete,
//! ReadyForQuery) and pgwire flushes after several of them: each flush would be a send(2)
//! and a wake-up of the client, which perf showed as the largest cost of a point select.
//! [`Corked`] keeps what is written until the connection is about to wait for the client
//! (a read that would block) or a large result has filled its buffer, then sends it in one
//! write. The loop is pgwire's `process_socket` (TLS negotiation, then `process_message`
//! per message), run over a corked socket.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use std::panic::AssertUnwindSafe;

use bytes::BytesMut;
use futures::{FutureExt, SinkExt, StreamExt};
use pgwire::api::{ClientInfo, ErrorHandler, PgWireConnectionState, PgWireServerHandlers};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::PgWireFrontendMessage;
use pgwire::tokio::TlsAcceptor;
use pgwire::tokio::server::{negotiate_tls, process_error, process_message};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_util::codec::{Framed, FramedParts};

use crate::error::SqlError;
use crate::server::ConnectionControl;

/// What a client must finish its startup in, as pgwire allows.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// Output kept back is sent once it reaches this size, whatever comes next.
const SEND_AT: usize = 64 * 1024;

/// A stream whose writes wait for the next read that would block (see the module doc).
pub(crate) struct Corked<S> {
    io: S,
    out: Vec<u8>,
    sent: usize,
}

impl<S: AsyncWrite + Unpin> Corked<S> {
    fn new(io: S) -> Corked<S> {
        Corked {
            io,
            out: Vec::new(),
            sent: 0,
        }
    }

    /// Writes out everything kept back.
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.out.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.out[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.out.clear();
        self.sent = 0;
        Pin::new(&mut self.io).poll_flush(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Corked<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Pending => {
                // About to wait for the client: what it waits for goes out now.
                if let Poll::Ready(Err(e)) = this.poll_send(cx) {
                    return Poll::Ready(Err(e));
                }
                Poll::Pending
            }
            ready => ready,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Corked<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.out.len() >= SEND_AT {
            ready!(this.poll_send(cx))?;
        }
        this.out.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.out.len() >= SEND_AT {
            return this.poll_send(cx);
        }
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_send(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

/// Serves one client connection until it ends, or until its control ends it: then the
/// reason goes to the client as a FATAL error, in order after everything sent before (on
/// TLS connections too). A panic while handling a message ends the connection the same way.
pub(crate) async fn process_socket<H: PgWireServerHandlers>(
    tcp: TcpStream,
    tls: Option<TlsAcceptor>,
    handlers: H,
    control: &ConnectionControl,
) -> io::Result<()> {
    let startup_timeout = tokio::time::sleep(STARTUP_TIMEOUT);
    tokio::pin!(startup_timeout);
    let negotiated = tokio::select! {
        () = &mut startup_timeout => return Ok(()),
        socket = negotiate_tls(tcp, tls) => socket?,
    };
    // A direct TLS request without TLS configured: nothing to serve.
    let Some(socket) = negotiated else {
        return Ok(());
    };
    let state = socket.state();
    let old = socket.into_parts();
    let mut parts = FramedParts::new(Corked::new(old.io), old.codec);
    parts.read_buf = old.read_buf;
    parts.write_buf = old.write_buf;
    let mut socket = Framed::from_parts(parts);
    socket.set_state(state);

    let startup = handlers.startup_handler();
    let simple = handlers.simple_query_handler();
    let extended = handlers.extended_query_handler();
    let copy = handlers.copy_handler();
    let cancel = handlers.cancel_handler();
    let errors = handlers.error_handler();
    loop {
        let starting = matches!(
            socket.state(),
            PgWireConnectionState::AwaitingStartup
                | PgWireConnectionState::AuthenticationInProgress
        );
        // Decoding and handling run under catch_unwind: pgwire's decoder had a panic on a
        // short Parse message, and a panic must end only this connection, with a reason.
        let ready = AssertUnwindSafe(socket.next())
            .catch_unwind()
            .now_or_never();
        let next = match ready {
            Some(message) => message,
            None => {
                // The client has nothing more to say for now: the connection waits, holding
                // as little memory as it can.
                shed_buffers(&mut socket);
                tokio::select! {
                    () = &mut startup_timeout, if starting => Ok(None),
                    () = control.ended() => Ok(None),
                    message = AssertUnwindSafe(socket.next()).catch_unwind() => message,
                }
            }
        };
        let Ok(message) = next else {
            panicked(control);
            break;
        };
        let Some(Ok(message)) = message else { break };
        // Terminate: the client is going; some (asyncpg) wait for the socket to close.
        if matches!(message, PgWireFrontendMessage::Terminate(_)) {
            break;
        }
        let is_extended_query = match socket.state() {
            PgWireConnectionState::CopyInProgress(extended) => extended,
            _ => message.is_extended_query(),
        };
        let is_cancel_request = matches!(message, PgWireFrontendMessage::CancelRequest(_));
        let processed = AssertUnwindSafe(process_message(
            message,
            &mut socket,
            startup.clone(),
            simple.clone(),
            extended.clone(),
            copy.clone(),
            cancel.clone(),
        ))
        .catch_unwind()
        .await;
        let Ok(processed) = processed else {
            panicked(control);
            break;
        };
        if let Err(mut e) = processed {
            errors.on_error(&socket, &mut e);
            let fatal = e.is_fatal();
            process_error(&mut socket, e, is_extended_query).await?;
            if fatal {
                break;
            }
        }
        if is_cancel_request {
            break;
        }
    }
    if let Some(reason) = control.reason() {
        tracing::info!(
            sqlstate = reason.sqlstate,
            "terminating connection: {}",
            reason.message
        );
        let fatal = PgWireBackendMessage::ErrorResponse(reason.info("FATAL").into());
        socket.feed(fatal).await?;
    }
    // What is kept back (a FATAL error, the answer to the last message) goes out before
    // the socket closes.
    socket.close().await
}

/// The capacity a waiting connection keeps in each buffer. More (pgwire starts with 8 KiB
/// for reading and 8 KiB for writing; a large message or result grows them) is given back
/// while it waits: idle connections are most connections, and those buffers were half of
/// an idle connection's memory. Small enough for a pgbench transaction's messages.
const IDLE_BUFFER: usize = 512;

fn shed_buffers<S, C>(socket: &mut Framed<Corked<S>, C>) {
    if socket.read_buffer().is_empty() && socket.read_buffer().capacity() > IDLE_BUFFER {
        *socket.read_buffer_mut() = BytesMut::with_capacity(IDLE_BUFFER);
    }
    if socket.write_buffer().is_empty() && socket.write_buffer().capacity() > IDLE_BUFFER {
        *socket.write_buffer_mut() = BytesMut::new();
    }
    let corked = socket.get_mut();
    if corked.out.is_empty() && corked.out.capacity() > IDLE_BUFFER {
        corked.out = Vec::new();
    }
}

fn panicked(control: &ConnectionControl) {
    tracing::error!("a connection's handler panicked; the connection is closed");
    control.terminate(SqlError::new(
        "XX000",
        "internal error while reading this connection's messages; the connection is closed",
    ));
}
