//! The proxy's side of the worker protocol: a link (one TCP connection to a worker, one
//! request in flight), and `DirectWriter`, a writer link opened by hand.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::BufStream;
use tokio::net::TcpStream;

use crate::error::ShardError;
use crate::interrupt::Interrupter;
use crate::messages::{Reply, Request, Response, Role};
use crate::storage::FENCED;
use crate::workers::protocol::{read_async, read_sync, write_async, write_sync};

/// One TCP connection to a worker, one request in flight.
pub(crate) struct Link {
    stream: BufStream<TcpStream>,
    id: u64,
    addr: SocketAddr,
    pub role: Role,
    /// A request is on the wire and its answer not read in full (the caller's future was
    /// dropped): the link can never be used again.
    in_flight: bool,
    /// The request on the wire is a stream: its `Columns` and `Rows` are not its end.
    streaming: bool,
    /// The core the link is used from (a reader link; see `WorkerHandle::take_link`).
    pub core: Option<usize>,
}

impl Link {
    /// Connects to `addr` (`host:port`, resolved now: a container's name may move).
    pub async fn connect(addr: &str, first: &Request) -> std::io::Result<(Link, Reply)> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let addr = tcp.peer_addr()?;
        let mut stream = BufStream::new(tcp);
        write_async(&mut stream, first).await?;
        let reply: Reply = read_async(&mut stream).await?;
        let (id, role) = match &reply.body {
            Response::Hello { link, role, .. } => (*link, *role),
            Response::Error(e) => return Err(std::io::Error::other(e.clone())),
            _ => (0, Role::Replica),
        };
        let link = Link {
            stream,
            id,
            addr,
            role,
            in_flight: false,
            streaming: false,
            core: None,
        };
        Ok((link, reply))
    }

    pub fn usable(&self) -> bool {
        !self.in_flight
    }

    pub async fn call(&mut self, request: &Request) -> std::io::Result<Reply> {
        self.send(request).await?;
        self.receive().await
    }

    pub async fn send(&mut self, request: &Request) -> std::io::Result<()> {
        self.in_flight = true;
        self.streaming = matches!(request, Request::Stream { .. });
        write_async(&mut self.stream, request).await
    }

    /// The next reply; a stream's last one (`End`, `Error`) ends the request.
    pub async fn receive(&mut self) -> std::io::Result<Reply> {
        let reply: Reply = read_async(&mut self.stream).await?;
        if !(self.streaming && matches!(reply.body, Response::Rows(_) | Response::Columns(_))) {
            self.in_flight = false;
        }
        Ok(reply)
    }

    /// Arms `interrupter` to interrupt what this link runs: a cancel opens a link of its
    /// own to the worker, off the async reactor.
    pub fn arm(&self, interrupter: &Interrupter) {
        let (addr, link) = (self.addr, self.id);
        interrupter.arm_remote(move || {
            std::thread::spawn(move || {
                if let Ok(mut s) = std::net::TcpStream::connect_timeout(&addr, CALL_TIMEOUT) {
                    let _ = write_sync(&mut s, &Request::Interrupt { link });
                    let _ = read_sync::<Reply>(&mut s);
                }
            });
        });
    }
}

/// Before `next` on a writer link whose previous holder dropped its transaction without
/// ending it (`open_transaction`): rolls that transaction back, or drops the link when it
/// cannot.
pub(crate) async fn roll_back_abandoned(
    link: &mut Option<Link>,
    open_transaction: &mut bool,
    next: &Request,
) {
    let starts = matches!(
        next,
        Request::Begin { .. }
            | Request::WriteGroup { .. }
            | Request::WriteBatch { .. }
            | Request::Maintain { .. }
    );
    if !(*open_transaction && starts) {
        return;
    }
    if let Some(l) = link
        && l.call(&Request::Rollback).await.is_err()
    {
        *link = None;
    }
    *open_transaction = false;
}

/// After `request` on a writer link answered `body`: whether a transaction is open on
/// the link now; a primary that says it was deposed (FENCED) loses the link, so the next
/// call finds the primary anew.
pub(crate) fn note_answer(
    link: &mut Option<Link>,
    open_transaction: &mut bool,
    request: &Request,
    body: &Response,
) {
    match (request, body) {
        (Request::Begin { .. }, Response::Done) => *open_transaction = true,
        (Request::Commit | Request::Rollback | Request::CommitDecided { .. }, Response::Done) => {
            *open_transaction = false
        }
        (_, Response::Error(e)) if e.sqlstate == FENCED => {
            *link = None;
            *open_transaction = false;
        }
        _ => {}
    }
}

/// How long the proxy waits for a worker to connect or answer a ping.
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// A writer link opened by hand, as a proxy opens one: for tests and tools that must act
/// as a stale proxy talking to a worker directly (the fence must stop it).
pub struct DirectWriter(Link);

impl DirectWriter {
    pub async fn connect(addr: SocketAddr) -> Result<DirectWriter, ShardError> {
        Link::connect(&addr.to_string(), &Request::Hello { writer: true })
            .await
            .map(|(link, _)| DirectWriter(link))
            .map_err(|e| ShardError::new("08006", e.to_string()))
    }

    /// Runs one statement in a transaction of its own, as an autocommit write (a group
    /// commit of one).
    pub async fn write(&mut self, sql: &str) -> Result<crate::value::Outcome, ShardError> {
        let request = Request::WriteGroup {
            writes: vec![(sql.to_owned(), Vec::new())],
        };
        let reply = self
            .0
            .call(&request)
            .await
            .map_err(|e| ShardError::new("08006", e.to_string()))?;
        match reply.body {
            Response::Outcomes(outcomes) => match <[_; 1]>::try_from(outcomes) {
                Ok([outcome]) => outcome,
                Err(outcomes) => Err(Response::Outcomes(outcomes).unexpected()),
            },
            other => Err(other.unexpected()),
        }
    }
}
