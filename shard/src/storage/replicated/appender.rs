//! A partition's appends, pipelined: the primary hands each commit's messages to one task
//! that sends them in order, each naming the message before it, without waiting for the
//! engine between them; commits are confirmed in order as the engine acknowledges them,
//! and a client's commit returns once its own is confirmed. The primary holds the
//! partition's writer only to hand the messages over, not for the engine's round trip.
//!
//! An acknowledgement that does not come (the engine electing, a node cut off) sends the
//! unconfirmed messages again, in order, under the same ids: the engine keeps one copy
//! of a message it already had and answers with its place, so the log ends up holding each
//! once, in order. A message refused because another writer appended first, or still
//! unanswered at the deadline, fails every commit not yet confirmed, and the primary
//! writes no more (`LogAcks::failure`).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, context::PublishErrorKind};
use futures::StreamExt;
use futures::stream::FuturesOrdered;
use tokio::sync::{mpsc, watch};

use crate::error::ShardError;
use crate::storage::fence::FENCED;

/// SQLSTATE of a commit whose fate the log did not tell in time (the engine lost its
/// quorum, or is electing past the commit timeout): it may or may not be in the log.
const UNKNOWN_OUTCOME: &str = "08007";

/// One commit's messages: payloads with their ids.
pub(crate) type Messages = Vec<(bytes::Bytes, String)>;

/// Where a partition's commits stand on the log, shared by its primary and the sessions
/// waiting for their commits.
pub(crate) struct LogAcks {
    /// Commits handed to the appender so far (numbered from 1).
    handed: AtomicU64,
    state: watch::Sender<Confirmed>,
    /// Set with the first failure: the process's readers stop answering from the file,
    /// which may hold a commit the log does not (see `Local::serving`).
    lost: Arc<AtomicBool>,
}

#[derive(Clone, Default)]
struct Confirmed {
    /// Commits the log holds, counted in order.
    through: u64,
    /// The log position of the last message of the last of them (or of this primary's
    /// mark, before its first commit).
    position: u64,
    /// The first commit that failed, and why: it and every later one are not confirmed.
    failed: Option<(u64, ShardError)>,
}

impl LogAcks {
    pub(crate) fn new(lost: Arc<AtomicBool>) -> Arc<LogAcks> {
        Arc::new(LogAcks {
            handed: AtomicU64::new(0),
            state: watch::Sender::new(Confirmed::default()),
            lost,
        })
    }

    /// The number of the last commit handed over: under the writer, the caller's own.
    pub(crate) fn committed(&self) -> u64 {
        self.handed.load(Ordering::SeqCst)
    }

    /// Returns once commit `commit` is on the log; its error if it will not be.
    pub(crate) async fn wait(&self, commit: u64) -> Result<(), ShardError> {
        let mut state = self.state.subscribe();
        loop {
            {
                let now = state.borrow_and_update();
                if now.through >= commit {
                    return Ok(());
                }
                if let Some((from, e)) = &now.failed
                    && *from <= commit
                {
                    return Err(e.clone());
                }
            }
            if state.changed().await.is_err() {
                return Err(ShardError::new(
                    UNKNOWN_OUTCOME,
                    "the partition closed before the log answered for this commit",
                ));
            }
        }
    }

    /// Why commits fail, once one did: this primary writes no more.
    /// The log position of the last commit the log acknowledged.
    pub(crate) fn position(&self) -> u64 {
        self.state.borrow().position
    }

    pub(crate) fn failure(&self) -> Option<ShardError> {
        self.state.borrow().failed.as_ref().map(|(_, e)| e.clone())
    }
}

/// The primary's end: hands commits over.
pub(crate) struct Appender {
    queue: mpsc::UnboundedSender<Messages>,
    acks: Arc<LogAcks>,
}

impl Appender {
    /// Starts the task appending to `subject` after message `last`.
    pub(crate) fn start(
        runtime: &tokio::runtime::Runtime,
        jetstream: jetstream::Context,
        subject: String,
        last: u64,
        timeout: Duration,
        acks: Arc<LogAcks>,
    ) -> Appender {
        let (queue, handed) = mpsc::unbounded_channel();
        acks.state.send_modify(|s| s.position = last);
        runtime.spawn(
            Task {
                jetstream,
                subject,
                last,
                timeout,
                acks: Arc::clone(&acks),
                unconfirmed: VecDeque::new(),
                confirmed: 0,
            }
            .run(handed),
        );
        Appender { queue, acks }
    }

    /// Hands one commit's messages over; returns its number (see [`LogAcks::wait`]).
    pub(crate) fn hand(&self, messages: Messages) -> u64 {
        let commit = self.acks.handed.fetch_add(1, Ordering::SeqCst) + 1;
        // The task ends only with the appender: a closed queue cannot happen here.
        let _ = self.queue.send(messages);
        commit
    }
}

/// A message sent and not yet confirmed.
struct Sent {
    commit: u64,
    /// The commit's last message: confirming it confirms the commit.
    ends_commit: bool,
    payload: bytes::Bytes,
    id: String,
    /// The message it names as the one before it.
    after: u64,
}

struct Task {
    jetstream: jetstream::Context,
    subject: String,
    /// The sequence the next message names as the one before it.
    last: u64,
    timeout: Duration,
    acks: Arc<LogAcks>,
    unconfirmed: VecDeque<Sent>,
    confirmed: u64,
}

type AckFuture = std::pin::Pin<
    Box<
        dyn std::future::Future<
                Output = Result<jetstream::publish::PublishAck, jetstream::context::PublishError>,
            > + Send,
    >,
>;

impl Task {
    async fn run(mut self, mut handed: mpsc::UnboundedReceiver<Messages>) {
        let mut acks: FuturesOrdered<AckFuture> = FuturesOrdered::new();
        let mut commit = 0;
        loop {
            tokio::select! {
                messages = handed.recv() => {
                    let Some(messages) = messages else { return };
                    commit += 1;
                    let count = messages.len();
                    for (i, (payload, id)) in messages.into_iter().enumerate() {
                        let sent = Sent { commit, ends_commit: i + 1 == count, payload, id, after: self.last };
                        self.last += 1;
                        match self.send(&sent).await {
                            Ok(ack) => acks.push_back(ack),
                            // Not even sent: the acknowledgement below fails the same way.
                            Err(e) => acks.push_back(Box::pin(async move { Err(e) })),
                        }
                        self.unconfirmed.push_back(sent);
                    }
                }
                Some(ack) = acks.next(), if !acks.is_empty() => {
                    match ack {
                        Ok(_) => self.confirm_front(),
                        Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => {
                            self.fail(ShardError::new(FENCED, "this primary lost its place: another primary appended to the partition's log"));
                            return;
                        }
                        Err(e) => {
                            acks = FuturesOrdered::new();
                            if let Err(e) = self.send_again(e).await {
                                self.fail(e);
                                return;
                            }
                        }
                    }
                }
            }
        }
    }

    async fn send(&self, sent: &Sent) -> Result<AckFuture, jetstream::context::PublishError> {
        let message = jetstream::message::PublishMessage::build()
            .payload(sent.payload.clone())
            .message_id(&sent.id)
            .expected_last_sequence(sent.after);
        let ack = self
            .jetstream
            .send_publish(self.subject.clone(), message)
            .await?;
        Ok(ack.into_future())
    }

    fn confirm_front(&mut self) {
        let Some(sent) = self.unconfirmed.pop_front() else {
            return;
        };
        if sent.ends_commit {
            self.confirmed = sent.commit;
            let (through, position) = (self.confirmed, sent.after + 1);
            self.acks.state.send_modify(|s| {
                s.through = through;
                s.position = position;
            });
        }
    }

    /// Sends every unconfirmed message again, one at a time, until each is confirmed or
    /// the deadline passes.
    async fn send_again(
        &mut self,
        first: jetstream::context::PublishError,
    ) -> Result<(), ShardError> {
        tracing::warn!(error = %first, "the log did not answer; sending the unconfirmed commits again");
        let deadline = Instant::now() + self.timeout;
        while let Some(sent) = self.unconfirmed.front() {
            let answer = match self.send(sent).await {
                Ok(ack) => ack.await,
                Err(e) => Err(e),
            };
            match answer {
                Ok(_) => self.confirm_front(),
                Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => {
                    return Err(ShardError::new(
                        FENCED,
                        "this primary lost its place: another primary appended to the partition's log",
                    ));
                }
                Err(e) if Instant::now() < deadline => {
                    tracing::debug!(error = %e, "the log still does not answer");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => {
                    return Err(ShardError::new(
                        UNKNOWN_OUTCOME,
                        format!(
                            "the storage engine did not take the commit within {} ms ({e}); it may or may not have committed",
                            self.timeout.as_millis()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Every commit not confirmed fails with `e`, and so will every later one.
    fn fail(&mut self, e: ShardError) {
        tracing::error!(error = %e.message, "commits did not reach the partition's log; this primary stops writing");
        let from = self.confirmed + 1;
        // Before any waiting session hears of it: a read after its failed commit must not
        // see that commit.
        self.acks.lost.store(true, Ordering::SeqCst);
        self.acks
            .state
            .send_modify(|s| s.failed = Some((from, e.clone())));
    }
}
