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
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use std::panic::AssertUnwindSafe;

use bytes::BytesMut;
use futures::{FutureExt, SinkExt};
use pgwire::api::{ClientInfo, ErrorHandler, PgWireConnectionState, PgWireServerHandlers};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::PgWireFrontendMessage;
use pgwire::tokio::TlsAcceptor;
use pgwire::tokio::server::{
    MaybeTls, PgWireMessageServerCodec, negotiate_tls, process_error, process_message,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_util::codec::{Framed, FramedParts};

use crate::error::SqlError;
use crate::network::inbound::{Inbound, MessageReader};
use crate::network::lanes::LaneSeat;
use crate::protocol::copy::abort_copy_in;
use crate::protocol::handlers::Factory;
use crate::protocol::handlers::notification_message;
use crate::session::interrupts::control::ConnectionControl;
use crate::session::notifications::Notification;
use crate::session::plans::describe::Prepared;
use crate::session::state::Session;

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

/// A client connection's socket, corked, with pgwire's codec (which holds the session).
type Socket = Framed<Corked<MaybeTls>, PgWireMessageServerCodec<Arc<Prepared>>>;

/// Serves one client connection until it ends, or until its control ends it: then the
/// reason goes to the client as a FATAL error, in order after everything sent before (on
/// TLS connections too). A panic while handling a message ends the connection the same way.
///
/// The connection runs on the lane of its seat, and moves to another lane when its seat
/// says its packets arrive on that lane's core (see `lanes.rs`): this task then waits
/// while the rest of the connection's life runs there, as a task of that lane.
pub(crate) async fn process_socket(
    tcp: TcpStream,
    tls: Option<TlsAcceptor>,
    factory: Arc<Factory>,
    control: Arc<ConnectionControl>,
    seat: LaneSeat,
) -> io::Result<()> {
    // TLS, the startup packet and authentication must be done by then (`server/slots.rs`).
    let startup_deadline = tokio::time::Instant::now()
        + factory
            .handlers
            .server
            .config()
            .limits
            .authentication_timeout();
    let negotiated = tokio::select! {
        () = tokio::time::sleep_until(startup_deadline) => return Ok(()),
        () = control.ended() => return Ok(()),
        socket = negotiate_tls(tcp, tls) => socket?,
    };
    // A direct TLS request without TLS configured: nothing to serve.
    let Some(socket) = negotiated else {
        return Ok(());
    };
    let state = socket.state();
    let old = socket.into_parts();
    let mut socket = corked(old.io, old.codec, old.read_buf, old.write_buf);
    socket.set_state(state);

    let mut stretch = serve_stretch(
        socket,
        seat,
        Arc::clone(&factory),
        Arc::clone(&control),
        startup_deadline,
    )
    .await?;
    while let Stretch::Moves {
        lane,
        detached,
        mut seat,
    } = stretch
    {
        let runtime = seat.move_to(lane);
        let (factory, control_there) = (Arc::clone(&factory), Arc::clone(&control));
        let there = runtime.spawn(async move {
            // The socket joins the epoll of the lane it now runs on.
            let socket = detached.attach()?;
            serve_stretch(socket, seat, factory, control_there, startup_deadline).await
        });
        // If this task is aborted (shutdown), so is the connection's move.
        let _abort = AbortOnDrop(there.abort_handle());
        stretch = match there.await {
            Ok(next) => next?,
            Err(e) if e.is_panic() => {
                panicked(&control);
                return Ok(());
            }
            // The lane's runtime is shutting down.
            Err(_) => return Ok(()),
        };
    }
    Ok(())
}

/// How a connection's time on one lane ended.
enum Stretch {
    Ended,
    /// It goes on on `lane`; its socket has left this lane's epoll.
    Moves {
        lane: usize,
        detached: Box<Detached>,
        seat: LaneSeat,
    },
}

/// A plain connection between lanes: the socket out of any epoll, and pgwire's codec and
/// buffers as they were.
struct Detached {
    tcp: std::net::TcpStream,
    parts: FramedParts<(), PgWireMessageServerCodec<Arc<Prepared>>>,
}

impl Detached {
    /// Only a plain TCP connection with nothing kept back to send can move (a TLS
    /// stream cannot be taken apart and put together again).
    fn movable(socket: &Socket) -> Option<socket2::SockRef<'_>> {
        match &socket.get_ref().io {
            MaybeTls::Plain(tcp) if socket.get_ref().out.is_empty() => {
                Some(socket2::SockRef::from(tcp))
            }
            _ => None,
        }
    }

    fn detach(socket: Socket) -> io::Result<Detached> {
        let parts = socket.into_parts();
        let MaybeTls::Plain(tcp) = parts.io.io else {
            return Err(io::Error::other("only a plain TCP connection can move"));
        };
        let mut rest = FramedParts::new((), parts.codec);
        rest.read_buf = parts.read_buf;
        rest.write_buf = parts.write_buf;
        Ok(Detached {
            tcp: tcp.into_std()?,
            parts: rest,
        })
    }

    fn attach(self) -> io::Result<Socket> {
        let tcp = TcpStream::from_std(self.tcp)?;
        let p = self.parts;
        Ok(corked(
            MaybeTls::Plain(tcp),
            p.codec,
            p.read_buf,
            p.write_buf,
        ))
    }
}

fn corked(
    io: MaybeTls,
    codec: PgWireMessageServerCodec<Arc<Prepared>>,
    read_buf: BytesMut,
    write_buf: BytesMut,
) -> Socket {
    let mut parts = FramedParts::new(Corked::new(io), codec);
    parts.read_buf = read_buf;
    parts.write_buf = write_buf;
    Framed::from_parts(parts)
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Serves the connection's messages on the current lane until it ends (then finishes it)
/// or moves.
async fn serve_stretch(
    mut socket: Socket,
    mut seat: LaneSeat,
    factory: Arc<Factory>,
    control: Arc<ConnectionControl>,
    startup_deadline: tokio::time::Instant,
) -> io::Result<Stretch> {
    let startup_timeout = tokio::time::sleep_until(startup_deadline);
    tokio::pin!(startup_timeout);
    // Every handler but cancel's is the one `Handlers`, as the factory hands them out.
    let handlers = &factory.handlers;
    let errors = factory.error_handler();
    let mut reader = MessageReader::new(handlers.server.config().limits.max_message_bytes());
    loop {
        let starting = matches!(
            socket.state(),
            PgWireConnectionState::AwaitingStartup
                | PgWireConnectionState::AuthenticationInProgress
        );
        // Decoding and handling run under catch_unwind: pgwire's decoder had a panic on a
        // short Parse message, and a panic must end only this connection, with a reason.
        let ready = AssertUnwindSafe(reader.next(&mut socket))
            .catch_unwind()
            .now_or_never();
        let next = match ready {
            Some(message) => message,
            None => {
                // The client has nothing more to say for now: the moment to move (between
                // queries, not amid a COPY, an extended-protocol batch or a message being
                // read past), and otherwise to wait holding as little memory as possible.
                if matches!(socket.state(), PgWireConnectionState::ReadyForQuery)
                    && !reader.is_dropping()
                    && let Some(lane) = Detached::movable(&socket).and_then(|s| seat.better_lane(s))
                {
                    let detached = Box::new(Detached::detach(socket)?);
                    return Ok(Stretch::Moves {
                        lane,
                        detached,
                        seat,
                    });
                }
                shed_buffers(&mut socket);
                // A session between transactions hears its notifications while it waits.
                let listening = between_transactions(&socket);
                let woken = tokio::select! {
                    () = &mut startup_timeout, if starting => Woken::Next(Ok(None)),
                    () = control.ended() => Woken::Next(Ok(None)),
                    message = AssertUnwindSafe(reader.next(&mut socket)).catch_unwind() => {
                        Woken::Next(message)
                    }
                    heard = heard(listening.as_deref()), if listening.is_some() => {
                        Woken::Heard(heard)
                    }
                };
                match woken {
                    Woken::Next(message) => message,
                    Woken::Heard(notification) => {
                        socket.send(notification_message(&notification)).await?;
                        continue;
                    }
                }
            }
        };
        let Ok(message) = next else {
            panicked(&control);
            break;
        };
        let message = match message {
            Some(Ok(Inbound::Message(message))) => message,
            Some(Ok(Inbound::TooLarge { tag, error })) => {
                let extended = match socket.state() {
                    PgWireConnectionState::CopyInProgress(extended) => extended,
                    _ => Inbound::is_extended_query(tag),
                };
                tracing::info!(sqlstate = error.sqlstate, "{}", error.message);
                let error = match socket.state() {
                    PgWireConnectionState::CopyInProgress(_) => {
                        abort_copy_in(&mut socket, error).await
                    }
                    _ => error,
                };
                process_error(&mut socket, error.into(), extended).await?;
                continue;
            }
            _ => break,
        };
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
            Arc::clone(handlers),
            Arc::clone(handlers),
            Arc::clone(handlers),
            Arc::clone(handlers),
            Arc::clone(&factory.cancels),
        ))
        .catch_unwind()
        .await;
        let Ok(processed) = processed else {
            panicked(&control);
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
    socket.close().await?;
    Ok(Stretch::Ended)
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

/// What ends a connection's wait for its client.
enum Woken<M> {
    Next(M),
    Heard(Arc<Notification>),
}

/// The session, when it is between transactions and may be told of notifications.
fn between_transactions<S: ClientInfo>(socket: &S) -> Option<Arc<Session>> {
    if !matches!(socket.state(), PgWireConnectionState::ReadyForQuery) {
        return None;
    }
    let session = socket.session_extensions().get::<Session>()?;
    let idle = session.state.try_lock().is_ok_and(|s| s.is_idle());
    idle.then_some(session)
}

/// The session's next notification; never, for none.
async fn heard(session: Option<&Session>) -> Arc<Notification> {
    match session {
        Some(session) => session.listener.lock().await.next().await,
        None => std::future::pending().await,
    }
}
