//! The connection to NATS JetStream, shared by a process's partitions (each partition's
//! log is in `log.rs`): its client, on a small runtime of its own, since a partition's
//! SQLite work is synchronous and a caller on any thread waits for the engine's answer;
//! the databases' streams as a whole (whether one exists, dropping them).

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, kv, object_store};
use litescale_config::StorageConfig;

use crate::error::ShardError;

/// The connection to the engine, shared by a process's partitions.
pub(crate) struct LogEngine {
    /// `None` only while dropping (see `Drop`).
    runtime: Option<tokio::runtime::Runtime>,
    jetstream: jetstream::Context,
    /// The leases' own connection (see `connect`).
    lease_jetstream: jetstream::Context,
    replicas: usize,
    commit_timeout: Duration,
    snapshot_every_mb: u64,
    snapshots_kept: usize,
    /// Names this process as a lease holder, and where it takes peers' writes.
    owner: String,
    /// Counts the schema changes this process's sessions did not make: applied from the
    /// log by a follower, or run for a peer (see [`LogEngine::schema_changes`]).
    schema_changes: Arc<std::sync::atomic::AtomicU64>,
    /// What a peer link must present (see `lease.rs`), once read.
    pub(super) peer_secret: std::sync::OnceLock<String>,
}

/// What precedes a lease holder's peer address in its lease.
pub(super) const PEER_AT: &str = " peer ";

impl LogEngine {
    /// Connects to the engine at the configured addresses; an engine that cannot be
    /// reached is an error naming them. `peer`: where this process takes other
    /// processes' writes for the partitions it holds the lease of (its leases say so).
    pub(crate) fn connect(
        config: &StorageConfig,
        peer: Option<std::net::SocketAddr>,
    ) -> Result<Arc<LogEngine>, ShardError> {
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
            snapshot_every_mb: config.snapshot_every_mb,
            snapshots_kept: config.snapshots_kept,
            owner: format!(
                "{}:{}:{}{}",
                std::fs::read_to_string("/proc/sys/kernel/hostname")
                    .map(|h| h.trim().to_owned())
                    .unwrap_or_default(),
                std::process::id(),
                uuid::Uuid::new_v4().simple(),
                peer.map(|a| format!("{PEER_AT}{a}")).unwrap_or_default()
            ),
            schema_changes: Arc::default(),
            peer_secret: std::sync::OnceLock::new(),
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

    /// The connection the partitions' logs are appended and read on.
    pub(super) fn jetstream(&self) -> &jetstream::Context {
        &self.jetstream
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

    pub(super) fn snapshot_every_mb(&self) -> u64 {
        self.snapshot_every_mb
    }

    pub(super) fn snapshots_kept(&self) -> usize {
        self.snapshots_kept
    }

    /// Bumped at each schema change made outside this process's sessions (a follower
    /// applied one from the log, a peer's forwarded DDL ran here): what the proxy's
    /// caches of column types must not outlive.
    pub(crate) fn schema_changes(&self) -> &Arc<std::sync::atomic::AtomicU64> {
        &self.schema_changes
    }

    pub(super) fn owner(&self) -> &str {
        &self.owner
    }

    pub(super) fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime
            .as_ref()
            .expect("the engine's runtime lives as long as the engine")
    }

    /// Runs `work` on the log's connection and waits for it, asking again while the engine
    /// has no answer (up to the commit timeout); `what` it does names it in an error.
    pub(super) fn ask<T, F>(
        &self,
        what: &str,
        work: impl Fn(jetstream::Context) -> F + Send + Sync + 'static,
    ) -> Result<T, ShardError>
    where
        T: Send + 'static,
        F: std::future::Future<Output = Result<T, async_nats::Error>> + Send,
    {
        let jetstream = self.jetstream.clone();
        let timeout = self.commit_timeout;
        let what = what.to_owned();
        self.run(async move { until_answered(timeout, &what, || work(jetstream.clone())).await })
    }

    /// Whether `database` has logs in the engine (it may have none on this host yet).
    pub(crate) fn has_database(&self, database: &str) -> Result<bool, ShardError> {
        let jetstream = self.jetstream.clone();
        let name = stream_name(database, 0);
        let timeout = self.commit_timeout;
        self.run(async move {
            until_answered(timeout, "asking whether the database has logs", || async {
                match jetstream.get_stream(&name).await {
                    Ok(_) => Ok(true),
                    Err(e)
                        if matches!(
                            e.kind(),
                            jetstream::context::GetStreamErrorKind::JetStream(j)
                                if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
                        ) =>
                    {
                        Ok(false)
                    }
                    Err(e) => Err(e),
                }
            })
            .await
        })
    }

    /// Deletes `database`'s logs (DROP DATABASE).
    pub(super) fn delete_logs(&self, database: &str, partitions: usize) {
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

/// Asks the engine with `attempt` again every 200 ms while it has no answer (a node
/// starting, an election), up to `timeout`; then 08006, saying `what` failed.
pub(super) async fn until_answered<T, E: std::fmt::Display, F>(
    timeout: Duration,
    what: &str,
    mut attempt: impl FnMut() -> F,
) -> Result<T, ShardError>
where
    F: std::future::Future<Output = Result<T, E>>,
{
    let deadline = Instant::now() + timeout;
    let mut warned = false;
    loop {
        match attempt().await {
            Ok(answer) => return Ok(answer),
            Err(e) if Instant::now() < deadline => {
                if !warned {
                    tracing::warn!(error = %e, "{what}: the storage engine has no answer yet");
                    warned = true;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => return Err(ShardError::new("08006", format!("{what}: {e}"))),
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

/// The next item of a listing of the engine's (a bucket's objects or keys), or an error
/// when none comes for 5 s: a listing whose items are deleted while it runs can wait for
/// them forever, and is asked again instead.
pub(super) async fn next_listed<T, E>(
    listing: &mut (impl futures::Stream<Item = Result<T, E>> + Unpin),
) -> Result<Option<T>, async_nats::Error>
where
    E: std::error::Error + Send + Sync + 'static,
{
    match tokio::time::timeout(Duration::from_secs(5), futures::StreamExt::next(listing)).await {
        Ok(next) => Ok(next.transpose()?),
        Err(_) => Err("a listing of the engine's stopped sending for 5 s".into()),
    }
}

/// The key-value bucket `bucket`, made with `replicas` copies if missing.
pub(super) async fn key_value(
    jetstream: &jetstream::Context,
    bucket: &str,
    replicas: usize,
) -> Result<kv::Store, async_nats::Error> {
    match jetstream.get_key_value(bucket).await {
        Ok(store) => Ok(store),
        Err(_) => Ok(jetstream
            .create_key_value(kv::Config {
                bucket: bucket.to_owned(),
                history: 1,
                num_replicas: replicas,
                storage: jetstream::stream::StorageType::File,
                ..Default::default()
            })
            .await?),
    }
}

/// The object store bucket `bucket`, made with `replicas` copies if missing.
pub(super) async fn object_store(
    jetstream: &jetstream::Context,
    bucket: &str,
    replicas: usize,
) -> Result<object_store::ObjectStore, async_nats::Error> {
    match jetstream.get_object_store(bucket).await {
        Ok(store) => Ok(store),
        Err(_) => Ok(jetstream
            .create_object_store(object_store::Config {
                bucket: bucket.to_owned(),
                num_replicas: replicas,
                storage: jetstream::stream::StorageType::File,
                ..Default::default()
            })
            .await?),
    }
}

/// A database's name as engine names allow it (letters, digits, `-` and `_`): other
/// bytes are written as `_xx` (hex), `_` itself as `__`; prefixed `LS_`.
pub(super) fn database_key(database: &str) -> String {
    let mut name = String::from("LS_");
    for b in database.bytes() {
        match b {
            b'_' => name.push_str("__"),
            b if b.is_ascii_alphanumeric() || b == b'-' => name.push(b as char),
            b => name.push_str(&format!("_{b:02x}")),
        }
    }
    name
}

/// The name of the stream that is `database`'s partition `index`'s log.
pub(super) fn stream_name(database: &str, index: usize) -> String {
    format!("{}_P{index}", database_key(database))
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
