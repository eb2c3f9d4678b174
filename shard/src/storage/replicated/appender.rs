//! A partition's appends, pipelined and grouped: the primary hands each commit's pages to
//! one task that sends them in order, each message naming the message before it, without
//! waiting for the engine between them; commits are confirmed in order as the engine
//! acknowledges them, and a client's commit returns once its own is confirmed. The primary
//! holds the partition's writer only to hand the pages over, not for the engine's round
//! trip.
//!
//! Group commit: while `IN_FLIGHT` messages await the engine, the commits handed meanwhile
//! gather in one group (`outbox`), appended once one of those is confirmed. Each message
//! is a round of the engine's replication and fsyncs, so under load the engine does one
//! round for many commits.
//!
//! An acknowledgement that does not come (the engine electing, a node cut off) sends the
//! unconfirmed messages again, in order, under the same ids: the engine keeps one copy
//! of a message it already had and answers with its place, so the log ends up holding each
//! once, in order. A message refused because another writer appended first, or still
//! unanswered at the deadline, fails every commit not yet confirmed, and the primary
//! writes no more (`LogAcks::failure`).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, context::PublishErrorKind};
use futures::StreamExt;
use futures::stream::FuturesOrdered;
use tokio::sync::{mpsc, watch};

use crate::error::ShardError;
use crate::storage::fence::FENCED;
use crate::storage::replicated::entry::{Pages, Part};
use crate::storage::replicated::outbox::{Group, Outbox};

/// SQLSTATE of a commit whose fate the log did not tell in time (the engine lost its
/// quorum, or is electing past the commit timeout): it may or may not be in the log.
const UNKNOWN_OUTCOME: &str = "08007";

/// Messages awaiting the engine past which the commits handed over gather in a group.
const IN_FLIGHT: usize = 1;

/// Called with each group's bytes as sent and the sequence of its last message.
pub(crate) type OnSent = Box<dyn FnMut(u64, u64) + Send + Sync>;

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
    outbox: Arc<Mutex<Outbox>>,
    /// Wakes the task: a group may be ready. Full means a wake-up is pending already.
    wake: mpsc::Sender<()>,
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
        on_sent: OnSent,
    ) -> Appender {
        let (wake, woken) = mpsc::channel(1);
        acks.state.send_modify(|s| s.position = last);
        let outbox = Arc::new(Mutex::new(Outbox::after(last)));
        runtime.spawn(
            Task {
                jetstream,
                subject,
                last,
                timeout,
                acks: Arc::clone(&acks),
                outbox: Arc::clone(&outbox),
                on_sent,
                unconfirmed: VecDeque::new(),
                confirmed: 0,
            }
            .run(woken),
        );
        Appender { outbox, wake, acks }
    }

    /// Whether a transaction is open on the writer (it began, or it ended without a
    /// commit): while one is, the open group waits a while for it.
    pub(crate) fn writing(&self, writing: bool) {
        let was = self.outbox().writing(writing);
        if was && !writing {
            let _ = self.wake.try_send(());
        }
    }

    /// Before a commit: the log sequence it will be appended at (the first message of the
    /// group it joins). The group waits until the commit is handed over or withdrawn.
    pub(crate) fn join(&self) -> u64 {
        self.outbox().join()
    }

    /// The commit that joined did not happen.
    pub(crate) fn withdraw(&self) {
        self.outbox().commit_ended();
        let _ = self.wake.try_send(());
    }

    /// Hands over the pages of the commit that joined, named `id`; returns its number
    /// (see [`LogAcks::wait`]).
    pub(crate) fn hand(&self, id: u64, pages: Pages) -> u64 {
        let commit = self.acks.handed.fetch_add(1, Ordering::SeqCst) + 1;
        self.outbox().add(id, commit, pages);
        // Full: the task is to look at the outbox already.
        let _ = self.wake.try_send(());
        commit
    }

    fn outbox(&self) -> MutexGuard<'_, Outbox> {
        Outbox::lock(&self.outbox)
    }
}

/// A message sent and not yet confirmed.
struct Sent {
    /// The last commit of the group it carries (part of).
    commit: u64,
    /// The group's last message: confirming it confirms the group's commits.
    ends_group: bool,
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
    outbox: Arc<Mutex<Outbox>>,
    on_sent: OnSent,
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

/// Resolves at `until` (never for `None`).
async fn sleep_until(until: Option<Instant>) {
    match until {
        Some(until) => tokio::time::sleep_until(until.into()).await,
        None => std::future::pending().await,
    }
}

impl Task {
    async fn run(mut self, mut woken: mpsc::Receiver<()>) {
        let mut acks: FuturesOrdered<AckFuture> = FuturesOrdered::new();
        // The appender is gone (the partition closing): what it handed over is still
        // sent and confirmed, then the task ends.
        let mut closing = false;
        // When the open group stops waiting for the writer's transaction.
        let mut waiting_until: Option<Instant> = None;
        loop {
            if closing && acks.is_empty() {
                return;
            }
            let room = self.unconfirmed.len() < IN_FLIGHT;
            tokio::select! {
                biased;
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
                wake = woken.recv(), if !closing && room => {
                    if wake.is_none() {
                        // Nothing more will be handed over, nor join.
                        closing = true;
                        Outbox::lock(&self.outbox).commit_ended();
                    }
                    waiting_until = self.send_open_group(&mut acks).await;
                }
                () = sleep_until(waiting_until), if waiting_until.is_some() && room => {
                    waiting_until = self.send_open_group(&mut acks).await;
                }
            }
        }
    }

    /// Sends the open group if it is ready; else when to look again.
    async fn send_open_group(&mut self, acks: &mut FuturesOrdered<AckFuture>) -> Option<Instant> {
        let taken = Outbox::lock(&self.outbox).take(Instant::now());
        match taken {
            Ok(group) => {
                self.send_group(group, acks).await;
                None
            }
            Err(until) => until,
        }
    }

    /// Sends the group's parts, each after the one before.
    async fn send_group(&mut self, group: Group, acks: &mut FuturesOrdered<AckFuture>) {
        let Group {
            id, commit, pages, ..
        } = group;
        let parts = Part::split(id, pages);
        let (count, mut bytes) = (parts.len(), 0);
        for (i, part) in parts.into_iter().enumerate() {
            let payload = bytes::Bytes::from(part.encode());
            bytes += payload.len() as u64;
            let sent = Sent {
                commit,
                ends_group: i + 1 == count,
                payload,
                id: format!("{id:016x}-{i}"),
                after: self.last,
            };
            self.last += 1;
            match self.send(&sent).await {
                Ok(ack) => acks.push_back(ack),
                // Not even sent: the acknowledgement fails the same way.
                Err(e) => acks.push_back(Box::pin(async move { Err(e) })),
            }
            self.unconfirmed.push_back(sent);
        }
        (self.on_sent)(bytes, self.last);
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
        if sent.ends_group {
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
