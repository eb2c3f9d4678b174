//! One partition's log in the engine: a stream (created with the configured replicas),
//! its end, appends that name the message they follow, its appender, ordered reads.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, stream};
use futures::StreamExt;

use crate::error::ShardError;
use crate::storage::fence::FENCED;
use crate::storage::replicated::appender::{Appender, LogAcks, OnSent};
use crate::storage::replicated::engine::{LogEngine, stream_name, until_answered};

/// One partition's log.
#[derive(Clone)]
pub(crate) struct PartitionLog {
    engine: Arc<LogEngine>,
    name: String,
    /// When the engine created the stream (nanoseconds since 1970): a database dropped
    /// and made again has a log of the same name, and its snapshots must not be taken
    /// for the new one's.
    generation: u64,
    subject: String,
}

/// A message of the log.
pub(crate) struct Logged {
    pub sequence: u64,
    /// When the engine stored it.
    pub time: chrono::DateTime<chrono::Utc>,
    pub payload: bytes::Bytes,
}

impl PartitionLog {
    /// The log of `database`'s partition `index`, created with the configured replicas
    /// if it does not exist yet.
    pub(crate) fn open(
        engine: &Arc<LogEngine>,
        database: &str,
        index: usize,
    ) -> Result<PartitionLog, ShardError> {
        let name = stream_name(database, index);
        let subject = format!("litescale.{name}");
        let config = stream::Config {
            name: name.clone(),
            subjects: vec![subject.clone()],
            num_replicas: engine.replicas(),
            storage: stream::StorageType::File,
            allow_direct: true,
            max_message_size: 1024 * 1024,
            ..Default::default()
        };
        let jetstream = engine.jetstream().clone();
        let timeout = engine.commit_timeout();
        let what = format!("opening the partition's log {name}");
        let generation = engine.run(async move {
            until_answered(timeout, &what, || {
                jetstream.get_or_create_stream(config.clone())
            })
            .await
            .map(|stream| {
                let created = stream.cached_info().created;
                created.timestamp_nanos_opt().unwrap_or_default() as u64
            })
        })?;
        Ok(PartitionLog {
            engine: Arc::clone(engine),
            name,
            subject,
            generation,
        })
    }

    /// The log's name in the engine (its stream's), also its lease's key.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The sequence number of the log's last message (0: empty).
    pub(crate) fn last_sequence(&self) -> Result<u64, ShardError> {
        Ok(self.ends()?.1)
    }

    /// The sequence numbers of the log's first and last messages: the first is past 1
    /// once the log was purged below a snapshot (past the last when nothing is left).
    pub(crate) fn ends(&self) -> Result<(u64, u64), ShardError> {
        self.ask("reading the ends of", |stream| async move {
            let state = stream.get_info().await?.state;
            Ok((state.first_sequence, state.last_sequence))
        })
    }

    /// Drops the log's messages before `sequence` (a snapshot holds what they wrote).
    pub(crate) fn purge_below(&self, sequence: u64) -> Result<(), ShardError> {
        self.ask("purging", move |stream| async move {
            stream.purge().sequence(sequence).await?;
            Ok(())
        })
    }

    /// Runs `work` on the log's stream, asking again while the engine has no answer;
    /// `what` it does, said of the log in an error.
    fn ask<T, F>(
        &self,
        what: &str,
        work: impl Fn(stream::Stream) -> F + Send + Sync + 'static,
    ) -> Result<T, ShardError>
    where
        T: Send + 'static,
        F: std::future::Future<Output = Result<T, async_nats::Error>> + Send,
    {
        let jetstream = self.engine.jetstream().clone();
        let name = self.name.clone();
        let timeout = self.engine.commit_timeout();
        let what = format!("{what} the partition's log {name}");
        self.engine.run(async move {
            until_answered(timeout, &what, || async {
                work(jetstream.get_stream(&name).await?).await
            })
            .await
        })
    }

    /// Which log of this name it is (see the field).
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// The engine the log is in (its snapshots are there too).
    pub(super) fn engine(&self) -> &Arc<LogEngine> {
        &self.engine
    }

    /// Appends `payload` after message `after`, waiting for the engine's answer (retried
    /// under the same `id` until the commit timeout); its sequence, or FENCED if another
    /// message came first.
    pub(crate) fn append_after(
        &self,
        after: u64,
        payload: Vec<u8>,
        id: &str,
    ) -> Result<u64, ShardError> {
        let jetstream = self.engine.jetstream().clone();
        let subject = self.subject.clone();
        let timeout = self.engine.commit_timeout();
        let payload = bytes::Bytes::from(payload);
        let id = id.to_owned();
        self.engine.run(async move {
            let deadline = Instant::now() + timeout;
            loop {
                let message = jetstream::message::PublishMessage::build()
                    .payload(payload.clone())
                    .message_id(&id)
                    .expected_last_sequence(after);
                let acked = async {
                    jetstream
                        .send_publish(subject.clone(), message)
                        .await?
                        .await
                };
                match acked.await {
                    Ok(ack) => return Ok(ack.sequence),
                    Err(e)
                        if e.kind() == jetstream::context::PublishErrorKind::WrongLastSequence =>
                    {
                        return Err(ShardError::new(
                            FENCED,
                            "another primary appended to the partition's log",
                        ));
                    }
                    Err(e) if Instant::now() < deadline => {
                        tracing::debug!(error = %e, "the partition's log does not answer yet");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(e) => {
                        return Err(ShardError::new(
                            "08006",
                            format!("the partition's log did not answer: {e}"),
                        ));
                    }
                }
            }
        })
    }

    /// Starts the partition's appender after message `last` (see `appender.rs`).
    pub(crate) fn appender(&self, last: u64, acks: Arc<LogAcks>, on_sent: OnSent) -> Appender {
        Appender::start(
            self.engine.runtime(),
            self.engine.jetstream().clone(),
            self.subject.clone(),
            last,
            self.engine.commit_timeout(),
            acks,
            on_sent,
        )
    }

    /// Calls `visit` with each message from `from` through `to`, in order, until it
    /// answers `false`.
    pub(crate) fn read(
        &self,
        from: u64,
        to: u64,
        mut visit: impl FnMut(Logged) -> Result<bool, ShardError>,
    ) -> Result<(), ShardError> {
        if from > to {
            return Ok(());
        }
        let jetstream = self.engine.jetstream().clone();
        let name = self.name.clone();
        let timeout = self.engine.commit_timeout();
        let (tx, rx) = mpsc::sync_channel::<Result<Logged, ShardError>>(64);
        self.engine.runtime().spawn(async move {
            let mut deadline = Instant::now() + timeout;
            let mut next = from;
            // An engine electing a leader, or a consumer lost on the way, is read again
            // from the next message wanted, until the deadline (which progress moves).
            loop {
                let before = next;
                let error = match read_from(&jetstream, &name, next, to, &tx).await {
                    Ok(Some(after)) => {
                        next = after;
                        if next > to {
                            return;
                        }
                        "the consumer ended early".to_owned()
                    }
                    Ok(None) => return,
                    Err((after, e)) => {
                        next = after.max(next);
                        e.to_string()
                    }
                };
                if next > before {
                    deadline = Instant::now() + timeout;
                }
                if Instant::now() > deadline {
                    let failed = format!("reading the partition's log {name}: {error}");
                    let _ = tx.send(Err(ShardError::new("08006", failed)));
                    return;
                }
                tracing::warn!(error, "reading the partition's log again");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        loop {
            let logged = rx
                .recv()
                .map_err(|_| ShardError::new("08006", "the partition's log ended early"))??;
            let sequence = logged.sequence;
            // Returning drops the receiver: the reading task stops at its next message.
            if !visit(logged)? || sequence >= to {
                return Ok(());
            }
        }
    }
}

/// A read that found the log purged below where it had to start.
pub(crate) const PURGED: &str = "55000";

/// The error of a read from message `from` of log `name`, which starts at `first`.
pub(crate) fn purged(name: &str, from: u64, first: u64) -> ShardError {
    ShardError::new(
        PURGED,
        format!(
            "the partition's log {name} no longer holds message {from} (it starts at {first}: a snapshot holds what came before)"
        ),
    )
}

/// How long a read waits for its consumer's next message before starting over.
const READ_STALL: Duration = Duration::from_secs(5);

/// Sends the messages from `from` through `to` down `tx`. `Ok(Some(next))`: the
/// consumer ended before `to` (`next` is the message wanted next); `Ok(None)`: done, or the
/// reader went away; `Err`: the next message wanted, and what failed.
async fn read_from(
    jetstream: &jetstream::Context,
    name: &str,
    from: u64,
    to: u64,
    tx: &mpsc::SyncSender<Result<Logged, ShardError>>,
) -> Result<Option<u64>, (u64, async_nats::Error)> {
    let mut next = from;
    let stream = jetstream
        .get_stream(name)
        .await
        .map_err(|e| (next, e.into()))?;
    let first = stream.cached_info().state.first_sequence;
    if first > to {
        // Purged through `to`: a consumer would wait for messages that never come.
        let _ = tx.send(Err(purged(name, from, first)));
        return Ok(None);
    }
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig {
            deliver_policy: jetstream::consumer::DeliverPolicy::ByStartSequence {
                start_sequence: from,
            },
            ..Default::default()
        })
        .await
        .map_err(|e| (next, e.into()))?;
    let mut messages = consumer.messages().await.map_err(|e| (next, e.into()))?;
    loop {
        // A consumer that stops delivering without an error (seen with large messages on
        // a busy engine) is dropped and the read resumed from the next message wanted.
        let message = match tokio::time::timeout(READ_STALL, messages.next()).await {
            Ok(Some(message)) => message,
            Ok(None) => break,
            Err(_) => return Err((next, "no message for 5 s".into())),
        };
        let message = message.map_err(|e| (next, e.into()))?;
        let info = message.info().map_err(|e| (next, e))?;
        let logged = Logged {
            sequence: info.stream_sequence,
            time: info.published,
            payload: message.payload.clone(),
        };
        next = logged.sequence + 1;
        let end = logged.sequence >= to;
        // The reader applies what it reads: waiting for it must not hold up the engine's
        // other work (appends, lease renewals) on this runtime's thread.
        if tokio::task::block_in_place(|| tx.send(Ok(logged))).is_err() || end {
            return Ok(None);
        }
    }
    Ok(Some(next))
}
