//! NATS JetStream as a partition's log: one stream per partition, replicated on the
//! engine's nodes (a majority holds an append, fsynced, before it is acknowledged), and
//! appends that name the sequence they follow, so that only one writer's can land.
//!
//! The engine's client is asynchronous; a partition's SQLite work is not. The client runs
//! on a small runtime of its own, and a caller on any thread waits for its answer.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, stream};
use futures::StreamExt;
use litescale_config::StorageConfig;

use crate::error::ShardError;
use crate::storage::fence::FENCED;
use crate::storage::replicated::appender::{Appender, LogAcks};

/// The connection to the engine, shared by a process's partitions.
pub(crate) struct LogEngine {
    /// `None` only while dropping (see `Drop`).
    runtime: Option<tokio::runtime::Runtime>,
    jetstream: jetstream::Context,
    /// The leases' own connection (see `connect`).
    lease_jetstream: jetstream::Context,
    replicas: usize,
    commit_timeout: Duration,
    /// Names this process as a lease holder.
    owner: String,
}

impl LogEngine {
    /// Connects to the engine at the configured addresses; an engine that cannot be
    /// reached is an error naming them.
    pub(crate) fn connect(config: &StorageConfig) -> Result<Arc<LogEngine>, ShardError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("litescale-log")
            .enable_all()
            .build()?;
        let servers = config.servers.join(", ");
        let unreachable = move |e: String| {
            ShardError::new(
                "08001",
                format!("cannot reach the storage engine (NATS JetStream) at {servers}: {e}"),
            )
        };
        let addresses: Vec<async_nats::ServerAddr> = config
            .servers
            .iter()
            .map(|s| s.parse().map_err(|e| unreachable.clone()(format!("{e}"))))
            .collect::<Result<_, _>>()?;
        // Two connections: leases are renewed on their own, never queued behind the
        // megabytes of a large commit's pages on the log's connection.
        let clients = wait_for(&runtime, async move {
            let log = connect(&addresses, &unreachable).await?;
            let leases = connect(&addresses, &unreachable).await?;
            Ok::<_, ShardError>((log, leases))
        });
        let (client, lease_client) = match clients {
            Ok(clients) => clients,
            Err(e) => {
                // Dropping a runtime waits for its threads, which an async caller may not.
                runtime.shutdown_background();
                return Err(e);
            }
        };
        let mut jetstream = jetstream::new(client);
        // One attempt's wait; a commit retries until `commit_timeout`.
        jetstream.set_timeout(Duration::from_secs(2));
        let mut lease_jetstream = jetstream::new(lease_client);
        lease_jetstream.set_timeout(Duration::from_secs(1));
        Ok(Arc::new(LogEngine {
            runtime: Some(runtime),
            jetstream,
            lease_jetstream,
            replicas: config.replicas,
            commit_timeout: Duration::from_millis(config.commit_timeout_ms),
            owner: format!(
                "{}:{}:{}",
                std::fs::read_to_string("/proc/sys/kernel/hostname")
                    .map(|h| h.trim().to_owned())
                    .unwrap_or_default(),
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            ),
        }))
    }

    /// Runs `work` on the engine's runtime and waits for it on this thread (any thread:
    /// the wait is a plain channel, not the caller's runtime).
    pub(super) fn run<T: Send + 'static>(
        &self,
        work: impl std::future::Future<Output = T> + Send + 'static,
    ) -> T {
        wait_for(self.runtime(), work)
    }

    pub(super) fn spawn(
        &self,
        work: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> tokio::task::AbortHandle {
        self.runtime().spawn(work).abort_handle()
    }

    /// The connection leases are taken and renewed on.
    pub(super) fn lease_jetstream(&self) -> &jetstream::Context {
        &self.lease_jetstream
    }

    pub(super) fn replicas(&self) -> usize {
        self.replicas
    }

    pub(super) fn commit_timeout(&self) -> Duration {
        self.commit_timeout
    }

    pub(super) fn owner(&self) -> &str {
        &self.owner
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime
            .as_ref()
            .expect("the engine's runtime lives as long as the engine")
    }

    /// The log of `database`'s partition `index`, created with the configured replicas
    /// if it does not exist yet.
    pub(crate) fn partition_log(
        self: &Arc<Self>,
        database: &str,
        index: usize,
    ) -> Result<PartitionLog, ShardError> {
        let name = stream_name(database, index);
        let subject = format!("litescale.{name}");
        let config = stream::Config {
            name: name.clone(),
            subjects: vec![subject.clone()],
            num_replicas: self.replicas,
            storage: stream::StorageType::File,
            allow_direct: true,
            max_message_size: 1024 * 1024,
            ..Default::default()
        };
        let jetstream = self.jetstream.clone();
        let timeout = self.commit_timeout;
        self.run(async move {
            let deadline = Instant::now() + timeout;
            loop {
                match jetstream.get_or_create_stream(config.clone()).await {
                    Ok(_) => return Ok(()),
                    Err(e) if Instant::now() < deadline => {
                        tracing::warn!(error = %e, "the storage engine has no answer for a partition's log yet");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    Err(e) => {
                        return Err(ShardError::new(
                            "08006",
                            format!("cannot open the partition's log {}: {e}", config.name),
                        ));
                    }
                }
            }
        })?;
        Ok(PartitionLog {
            engine: Arc::clone(self),
            name,
            subject,
        })
    }

    /// Whether `database` has logs in the engine (it may have none on this host yet).
    pub(crate) fn has_database(&self, database: &str) -> Result<bool, ShardError> {
        let jetstream = self.jetstream.clone();
        let name = stream_name(database, 0);
        let deadline = Instant::now() + self.commit_timeout;
        self.run(async move {
            loop {
                match jetstream.get_stream(&name).await {
                    Ok(_) => return Ok(true),
                    Err(e)
                        if matches!(
                            e.kind(),
                            jetstream::context::GetStreamErrorKind::JetStream(j)
                                if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
                        ) =>
                    {
                        return Ok(false);
                    }
                    // An engine electing answers later.
                    Err(_) if Instant::now() < deadline => {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    Err(e) => {
                        return Err(ShardError::new(
                            "08006",
                            format!("the storage engine did not answer: {e}"),
                        ));
                    }
                }
            }
        })
    }

    /// Deletes `database`'s logs (DROP DATABASE).
    pub(crate) fn delete_database(&self, database: &str, partitions: usize) {
        let jetstream = self.jetstream.clone();
        let names: Vec<String> = (0..partitions).map(|i| stream_name(database, i)).collect();
        self.run(async move {
            for name in names {
                if let Err(e) = jetstream.delete_stream(&name).await {
                    tracing::warn!(stream = %name, error = %e, "could not delete a dropped database's log");
                }
            }
        });
    }
}

impl Drop for LogEngine {
    /// The engine may go on any thread, a runtime's too, where waiting for the runtime's
    /// threads to end is not allowed: they are left to end by themselves.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// One connection to the engine, at any of `addresses`.
async fn connect(
    addresses: &[async_nats::ServerAddr],
    unreachable: &(impl Fn(String) -> ShardError + Clone),
) -> Result<async_nats::Client, ShardError> {
    let connect = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(2))
        // A node whose link is cut answers nothing, not even a reset: pings find it gone
        // in seconds (the default is minutes), and the client moves to another.
        .ping_interval(Duration::from_secs(1))
        .retry_on_initial_connect()
        .connect(addresses);
    match tokio::time::timeout(Duration::from_secs(5), connect).await {
        Ok(Ok(client)) => {
            // retry_on_initial_connect returns before the first connection: wait for it,
            // so that an engine that is not there is reported now.
            let deadline = Instant::now() + Duration::from_secs(5);
            while client.connection_state() != async_nats::connection::State::Connected {
                if Instant::now() > deadline {
                    return Err(unreachable("no server answered in 5 s".into()));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Ok(client)
        }
        Ok(Err(e)) => Err(unreachable(e.to_string())),
        Err(_) => Err(unreachable("no server answered in 5 s".into())),
    }
}

/// Runs `work` on `runtime` and waits for its answer on this thread. On a thread of a
/// client's lane the wait hands the lane's other connections to another thread first, as
/// a long statement does: a commit's round trip to the engine must not stall them.
fn wait_for<T: Send + 'static>(
    runtime: &tokio::runtime::Runtime,
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::sync_channel(1);
    runtime.spawn(async move {
        let _ = tx.send(work.await);
    });
    let recv = || {
        rx.recv()
            .expect("the engine's runtime runs while the engine exists")
    };
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(recv)
        }
        _ => recv(),
    }
}

/// Stream names allow letters, digits, `-` and `_`: other bytes of a database's name are
/// written as `_xx` (hex), `_` itself as `__`.
fn stream_name(database: &str, index: usize) -> String {
    let mut name = String::from("LS_");
    for b in database.bytes() {
        match b {
            b'_' => name.push_str("__"),
            b if b.is_ascii_alphanumeric() || b == b'-' => name.push(b as char),
            b => name.push_str(&format!("_{b:02x}")),
        }
    }
    format!("{name}_P{index}")
}

/// One partition's log.
pub(crate) struct PartitionLog {
    engine: Arc<LogEngine>,
    name: String,
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
    /// The log's name in the engine (its stream's), also its lease's key.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The sequence number of the log's last message (0: empty).
    pub(crate) fn last_sequence(&self) -> Result<u64, ShardError> {
        let jetstream = self.engine.jetstream.clone();
        let name = self.name.clone();
        let timeout = self.engine.commit_timeout;
        self.engine.run(async move {
            let deadline = Instant::now() + timeout;
            loop {
                let info = async {
                    jetstream
                        .get_stream(&name)
                        .await?
                        .get_info()
                        .await
                        .map_err(Into::into)
                };
                let result: Result<stream::Info, async_nats::Error> = info.await;
                match result {
                    Ok(info) => return Ok(info.state.last_sequence),
                    Err(e) if Instant::now() < deadline => {
                        tracing::warn!(error = %e, "waiting for the partition's log");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    Err(e) => {
                        return Err(ShardError::new(
                            "08006",
                            format!("the partition's log {name} did not answer: {e}"),
                        ));
                    }
                }
            }
        })
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
        let jetstream = self.engine.jetstream.clone();
        let subject = self.subject.clone();
        let timeout = self.engine.commit_timeout;
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
    pub(crate) fn appender(&self, last: u64, acks: Arc<LogAcks>) -> Appender {
        Appender::start(
            self.engine.runtime(),
            self.engine.jetstream.clone(),
            self.subject.clone(),
            last,
            self.engine.commit_timeout,
            acks,
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
        let jetstream = self.engine.jetstream.clone();
        let name = self.name.clone();
        let timeout = self.engine.commit_timeout;
        let (tx, rx) = mpsc::sync_channel::<Result<Logged, ShardError>>(64);
        self.engine.runtime().spawn(async move {
            let deadline = Instant::now() + timeout;
            let mut next = from;
            // An engine electing a leader, or a consumer lost on the way, is read again
            // from the next message wanted, until the deadline.
            loop {
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
    while let Some(message) = messages.next().await {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_keep_letters_and_spell_the_rest_in_hex() {
        assert_eq!(stream_name("app", 2), "LS_app_P2");
        assert_eq!(stream_name("my_db.x", 0), "LS_my__db_2ex_P0");
    }
}
