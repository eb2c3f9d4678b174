//! The proxy's side of the worker protocol: links to worker processes, and the writer
//! link a partition's transactions run on.

use std::net::SocketAddr;
use std::sync::Weak;
use std::time::Duration;

use tokio::io::BufStream;
use tokio::net::TcpStream;

use crate::error::ShardError;
use crate::interrupt::Interrupter;
use crate::protocol::{
    Reply, Request, Response, Role, read_async, read_sync, write_async, write_sync,
};
use crate::supervisor::WorkerGroup;

/// One TCP connection to a worker, one request in flight.
pub(crate) struct Link {
    stream: BufStream<TcpStream>,
    id: u64,
    addr: SocketAddr,
    pub role: Role,
    /// A request is on the wire and its answer not read in full (the caller's future was
    /// dropped): the link can never be used again.
    in_flight: bool,
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
        write_async(&mut self.stream, request).await
    }

    /// The next reply; a stream's last one (`End`, `Error`) ends the request.
    pub async fn receive(&mut self) -> std::io::Result<Reply> {
        let reply: Reply = read_async(&mut self.stream).await?;
        if !matches!(reply.body, Response::Rows(_) | Response::Columns(_)) {
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

/// How long the proxy waits for a worker to connect or answer a ping.
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// The link to a partition's primary that its transactions run on, behind the partition's
/// writer lock (so, as in process, one transaction at a time writes the partition).
pub(crate) struct RemoteWriter {
    group: Weak<WorkerGroup>,
    link: Option<Link>,
    /// The worker `link` goes to.
    linked_worker: u64,
    /// A transaction is open on the link.
    open_transaction: bool,
}

impl RemoteWriter {
    pub fn new(group: Weak<WorkerGroup>) -> RemoteWriter {
        RemoteWriter {
            group,
            link: None,
            linked_worker: 0,
            open_transaction: false,
        }
    }

    /// Sends a request to the primary, connecting (and waiting out a failover) first if
    /// needed. A link lost while a request was on it means the primary died: its open
    /// transaction died with it (40001, retryable), and a commit in flight may or may not
    /// have happened (08007, as Postgres reports a connection lost during COMMIT).
    pub async fn call(
        &mut self,
        request: Request,
        interrupter: &Interrupter,
    ) -> Result<Reply, ShardError> {
        // The previous holder dropped its transaction without ending it.
        if self.open_transaction
            && matches!(
                request,
                Request::Begin { .. }
                    | Request::WriteGroup { .. }
                    | Request::WriteBatch { .. }
                    | Request::Maintain { .. }
            )
        {
            if let Some(link) = &mut self.link
                && link.call(&Request::Rollback).await.is_err()
            {
                self.link = None;
            }
            self.open_transaction = false;
        }
        let group = self
            .group
            .upgrade()
            .ok_or_else(|| ShardError::new("57P01", "the partition was closed"))?;
        // A link to a worker that is no longer the primary (it died, or was deposed) is
        // dropped before anything is sent on it: nothing can be lost but an open
        // transaction, which died with that worker.
        let stale = self.link.as_ref().is_some_and(|l| !l.usable())
            || group.primary_id().is_some_and(|p| p != self.linked_worker);
        if stale && self.link.take().is_some() && std::mem::take(&mut self.open_transaction) {
            return match request {
                Request::Rollback => Ok(rolled_back_already()),
                _ => Err(transaction_lost()),
            };
        }
        if self.link.is_none() {
            if matches!(request, Request::Rollback) {
                return Ok(rolled_back_already());
            }
            let (link, worker) = group.connect_primary().await?;
            self.link = Some(link);
            self.linked_worker = worker;
        }
        let link = self.link.as_mut().expect("connected above");
        link.arm(interrupter);
        let result = link.call(&request).await;
        interrupter.disarm();
        match result {
            Ok(reply) => {
                match (&request, &reply.body) {
                    (Request::Begin { .. }, Response::Done) => self.open_transaction = true,
                    (
                        Request::Commit | Request::Rollback | Request::CommitDecided { .. },
                        Response::Done,
                    ) => self.open_transaction = false,
                    (_, Response::Error(e)) if e.sqlstate == crate::fence::FENCED => {
                        // This worker was deposed: find the new primary next time.
                        self.link = None;
                        self.open_transaction = false;
                    }
                    _ => {}
                }
                Ok(reply)
            }
            Err(e) => {
                self.link = None;
                let was_open = std::mem::take(&mut self.open_transaction);
                group.suspect_primary();
                tracing::warn!(error = %e, "lost the link to the partition's primary");
                match request {
                    Request::Rollback => Ok(rolled_back_already()),
                    _ => Err(lost(&request, was_open)),
                }
            }
        }
    }

    pub fn in_transaction(&self) -> bool {
        self.open_transaction
    }

    /// Drops the link (its worker is being stopped); the next call connects anew.
    pub fn forget_link(&mut self) {
        self.link = None;
    }
}

/// A ROLLBACK with no transaction left to undo: it ended with the worker that held it.
fn rolled_back_already() -> Reply {
    Reply {
        busy_nanos: 0,
        body: Response::Done,
    }
}

/// The transaction died with the primary that held it.
fn transaction_lost() -> ShardError {
    ShardError::new(
        "40001",
        "the partition's primary worker failed; the transaction was rolled back",
    )
}

/// The error a client gets when the primary died under its request.
fn lost(request: &Request, was_open: bool) -> ShardError {
    if request.commits() {
        ShardError::new(
            "08007",
            "the partition's primary worker failed during the commit; whether it committed is unknown",
        )
    } else if was_open {
        transaction_lost()
    } else {
        ShardError::new("40001", "the partition's primary worker failed; retry")
    }
}

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
