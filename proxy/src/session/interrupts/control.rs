//! A connection's off-switch, held by its session and by whatever may end it from outside.

use std::mem::MaybeUninit;
use std::os::fd::{BorrowedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

use crate::error::SqlError;

/// Ends a connection from outside its message loop (the idle-in-transaction timeout,
/// pg_terminate_backend, KILL, a newer connection needing its startup place, a client
/// gone while a statement runs), telling the client why with a FATAL error, as Postgres
/// does.
pub(crate) struct ConnectionControl {
    end: Notify,
    reason: std::sync::Mutex<Option<SqlError>>,
    /// Set by `terminate`, never cleared: the connection runs nothing more.
    terminating: AtomicBool,
    /// The client's socket, owned by the connection: only peeked at (`client_gone`).
    socket: RawFd,
}

impl ConnectionControl {
    pub(crate) fn new(socket: RawFd) -> ConnectionControl {
        ConnectionControl {
            end: Notify::new(),
            reason: std::sync::Mutex::default(),
            terminating: AtomicBool::new(false),
            socket,
        }
    }

    /// Whether the client has closed or reset its end. A statement runs on its
    /// connection's thread, so the connection itself cannot notice until it ends; this
    /// peeks at the socket from elsewhere and takes nothing from it.
    pub(crate) fn client_gone(&self) -> bool {
        // SAFETY: borrowed for one recv with MSG_PEEK on a non-blocking socket. Should the
        // connection have closed it meanwhile, the call fails (EBADF: gone, which is true)
        // or peeks at whatever reused the number, taking nothing from it.
        let socket = unsafe { BorrowedFd::borrow_raw(self.socket) };
        let mut byte = [MaybeUninit::<u8>::uninit()];
        match socket2::SockRef::from(&socket).peek(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
            ),
        }
    }

    /// Ends the connection when it next waits for the client, telling it `reason`.
    pub(crate) fn terminate(&self, reason: SqlError) {
        *self.reason.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
        self.terminating.store(true, Ordering::Relaxed);
        self.end.notify_one();
    }

    pub(crate) fn terminating(&self) -> bool {
        self.terminating.load(Ordering::Relaxed)
    }

    pub(crate) async fn ended(&self) {
        self.end.notified().await
    }

    pub(crate) fn reason(&self) -> Option<SqlError> {
        self.reason.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}
