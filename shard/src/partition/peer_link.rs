//! A peer's link to its partition's primary (another litescale process, the holder of
//! the partition's lease): the writer requests of a peer's sessions, one transaction at a
//! time, and the log position each commit's answer carries.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Mutex as AsyncMutex;

use crate::error::ShardError;
use crate::interrupt::Interrupter;
use crate::messages::{Reply, Request, Response};
use crate::storage::Takeover;
use crate::workers::{
    Link, lost, note_answer, roll_back_abandoned, rolled_back_already, transaction_lost,
};

/// A peer's way to the partition's primary.
pub(crate) struct Forward {
    writer: Arc<AsyncMutex<PeerWriter>>,
    /// Writes go to the primary elsewhere; cleared once this process took over.
    active: AtomicBool,
    takeover: Arc<Takeover>,
}

/// The link to the primary that a peer's transactions run on, behind the partition's
/// writer lock (so one transaction at a time, as in process).
pub(crate) struct PeerWriter {
    takeover: Arc<Takeover>,
    database: String,
    partition: usize,
    /// What the primary's peer port asks for.
    secret: String,
    /// How long a write waits for a primary to answer (one taking over, the engine
    /// electing): the commit timeout.
    wait: Duration,
    link: Option<Link>,
    /// A transaction is open on the link.
    open_transaction: bool,
}

impl Forward {
    pub(super) fn active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    pub(super) fn writer(&self) -> Arc<AsyncMutex<PeerWriter>> {
        Arc::clone(&self.writer)
    }

    /// Partition `index` of `database`'s writes forwarded to whoever holds its lease,
    /// waiting up to `wait` (the commit timeout) for one that answers.
    pub(super) fn new(
        takeover: Takeover,
        database: &str,
        index: usize,
        wait: Duration,
    ) -> Result<Forward, ShardError> {
        let takeover = Arc::new(takeover);
        let writer = PeerWriter {
            secret: takeover.peer_secret()?,
            takeover: Arc::clone(&takeover),
            database: database.to_owned(),
            partition: index,
            wait,
            link: None,
            open_transaction: false,
        };
        Ok(Forward {
            writer: Arc::new(AsyncMutex::new(writer)),
            active: AtomicBool::new(true),
            takeover,
        })
    }

    /// Writes are no longer forwarded: this process is the primary now.
    pub(super) fn stop(&self) {
        self.active.store(false, Ordering::Release);
    }

    pub(super) fn takeover(&self) -> &Arc<Takeover> {
        &self.takeover
    }
}

impl PeerWriter {
    /// Sends a request to the primary, connecting first if needed (waiting, up to the
    /// commit timeout, for a primary to hold the lease and answer). Answers the reply and,
    /// for a commit, the log position the primary stood at after it. A link lost under a
    /// request is what a lost worker link is (40001, 08007 during a commit).
    pub(super) async fn call(
        &mut self,
        request: Request,
        interrupter: &Interrupter,
    ) -> Result<(Reply, Option<u64>), ShardError> {
        roll_back_abandoned(&mut self.link, &mut self.open_transaction, &request).await;
        if self.link.as_ref().is_some_and(|l| !l.usable()) {
            self.link = None;
            if std::mem::take(&mut self.open_transaction) {
                return match request {
                    Request::Rollback => Ok((rolled_back_already(), None)),
                    _ => Err(transaction_lost()),
                };
            }
        }
        if self.link.is_none() {
            if matches!(request, Request::Rollback) {
                return Ok((rolled_back_already(), None));
            }
            self.link = Some(self.connect().await?);
        }
        let link = self.link.as_mut().expect("connected above");
        link.arm(interrupter);
        let result = link.call(&request).await;
        interrupter.disarm();
        let mut reply = match result {
            Ok(reply) => reply,
            Err(e) => {
                self.link = None;
                let was_open = std::mem::take(&mut self.open_transaction);
                tracing::warn!(error = %e, "lost the link to the partition's primary");
                return match request {
                    Request::Rollback => Ok((rolled_back_already(), None)),
                    _ => Err(lost(&request, was_open)),
                };
            }
        };
        let position = match std::mem::replace(&mut reply.body, Response::Done) {
            Response::Committed { body, position } => {
                reply.body = *body;
                position
            }
            body => {
                reply.body = body;
                None
            }
        };
        // Deposed, the link goes: the lease says who the primary is, next time.
        note_answer(
            &mut self.link,
            &mut self.open_transaction,
            &request,
            &reply.body,
        );
        Ok((reply, position))
    }

    /// A link to the lease's holder, asked again (every 100 ms, up to the commit
    /// timeout) while nobody holds it or its holder does not answer as the primary.
    async fn connect(&self) -> Result<Link, ShardError> {
        let hello = Request::Forward {
            database: self.database.clone(),
            partition: self.partition,
            secret: self.secret.clone(),
        };
        let started = Instant::now();
        loop {
            let why = match self.takeover.holder().await {
                Ok(Some(peer)) => {
                    match tokio::time::timeout(ANSWER, Link::connect(&peer, &hello)).await {
                        Ok(Ok((link, _))) => return Ok(link),
                        Ok(Err(e)) => format!("its primary at {peer} did not take the link: {e}"),
                        Err(_) => format!("its primary at {peer} did not answer"),
                    }
                }
                Ok(None) => "nobody holds its lease".to_owned(),
                Err(e) => e.message,
            };
            if started.elapsed() >= self.wait {
                return Err(ShardError::new(
                    "57P03",
                    format!(
                        "partition {} of database \"{}\" has no primary to write to ({why}); retry",
                        self.partition, self.database
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// How long connecting to a primary may take.
const ANSWER: Duration = Duration::from_secs(2);
