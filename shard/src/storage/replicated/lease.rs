//! Who tries to be a partition's primary: a lease in the engine's key-value store, one key
//! per partition, taken with compare-and-swap and renewed by its holder. A lease whose
//! revision has not moved for `LEASE_TTL` (as its observer counts, on its own clock) is
//! taken over. The lease decides only who tries: the log decides who wins (an append
//! names the message it follows), so a holder that wakes after a pause, still believing
//! it holds the lease, cannot commit; its next renewal finds the lease taken and it steps
//! down.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_nats::jetstream::kv;

use crate::error::ShardError;
use crate::storage::replicated::engine::{LogEngine, PEER_AT, key_value, until_answered};

/// How long a lease's revision must stand still before another process takes it over.
pub(crate) const LEASE_TTL: Duration = Duration::from_millis(1500);
const RENEW_EVERY: Duration = Duration::from_millis(300);
const BUCKET: &str = "litescale_leases";
/// The key of the peers' secret in the leases' bucket (no partition's log has this name).
const PEER_SECRET: &str = "peer-secret";

/// A held lease, renewed until dropped (which releases it).
pub(crate) struct Lease {
    deposed: Arc<AtomicBool>,
    renewal: tokio::task::AbortHandle,
    release: Option<Box<dyn FnOnce() + Send>>,
}

impl Lease {
    /// Whether another process took the lease over: this one must not write.
    pub(crate) fn deposed(&self) -> bool {
        self.deposed.load(Ordering::Relaxed)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewal.abort();
        // A deposed holder leaves the lease to whoever took it.
        if let Some(release) = self.release.take()
            && !self.deposed()
        {
            release();
        }
    }
}

impl LogEngine {
    /// Takes the lease `key`, waiting while another process holds it live; `wait`
    /// bounds the wait (`None`: as long as it takes). While it waits, `meanwhile` runs
    /// about once a second on this thread (a standby keeps its file close to the log).
    pub(crate) fn lease(
        self: &Arc<Self>,
        key: &str,
        wait: Option<Duration>,
        meanwhile: impl FnMut() -> Result<(), ShardError>,
    ) -> Result<Lease, ShardError> {
        self.lease_within(key, wait, meanwhile)?.ok_or_else(|| {
            ShardError::new(
                "57P03",
                format!(
                    "the partition {key} is served by another litescale process (its lease is held)"
                ),
            )
        })
    }

    /// As [`LogEngine::lease`]; `None` when another process still holds the lease live
    /// once `wait` is over (a round of about a second at least).
    pub(crate) fn lease_within(
        self: &Arc<Self>,
        key: &str,
        wait: Option<Duration>,
        mut meanwhile: impl FnMut() -> Result<(), ShardError>,
    ) -> Result<Option<Lease>, ShardError> {
        let store = self.lease_store()?;
        let owner = self.owner().to_owned();
        let started = Instant::now();
        // Carried from round to round: how long the holder's revision has stood still.
        let mut standing = Standing::default();
        let revision = loop {
            let round = self.run({
                let (store, owner, key) = (store.clone(), owner.clone(), key.to_owned());
                async move { take(&store, &key, &owner, standing).await }
            });
            match round {
                Round::Taken(revision) => break revision,
                Round::Held(still) if wait.is_none_or(|w| started.elapsed() < w) => {
                    standing = still;
                    meanwhile()?;
                }
                Round::Held(_) => return Ok(None),
            }
        };
        let deposed = Arc::new(AtomicBool::new(false));
        let renewal = self.spawn(renew(
            store.clone(),
            key.to_owned(),
            owner,
            revision,
            Arc::clone(&deposed),
        ));
        let engine = Arc::clone(self);
        let key = key.to_owned();
        Ok(Some(Lease {
            deposed,
            renewal,
            release: Some(Box::new(move || {
                // A lease given back lets a successor start at once instead of after the TTL.
                let _ = engine.run(async move { store.delete(&key).await });
            })),
        }))
    }

    /// Where the holder of lease `key` takes peers' writes, as its lease says; `None`
    /// when nobody holds it or its holder takes none. Asked from any runtime.
    pub(crate) async fn holder_peer(
        self: &Arc<Self>,
        key: &str,
    ) -> Result<Option<String>, ShardError> {
        let engine = Arc::clone(self);
        let asked = key.to_owned();
        self.runtime()
            .spawn(async move {
                let store = engine.lease_jetstream().get_key_value(BUCKET).await?;
                let entry = store.entry(&asked).await?;
                Ok::<_, async_nats::Error>(
                    entry
                        .filter(|e| e.operation == kv::Operation::Put)
                        .and_then(|e| {
                            let value = String::from_utf8_lossy(&e.value).into_owned();
                            value.split_once(PEER_AT).map(|(_, peer)| peer.to_owned())
                        }),
                )
            })
            .await
            .map_err(|e| {
                ShardError::new("XX000", format!("asking for a lease's holder failed: {e}"))
            })?
            .map_err(|e| {
                ShardError::new(
                    "08006",
                    format!("the storage engine did not say who holds the lease {key}: {e}"),
                )
            })
    }

    /// The secret a peer link presents: made once, at random, in the leases' bucket, so
    /// every process that reaches the engine (and nothing that does not) knows it. The
    /// peer port takes writes on its word.
    pub(crate) fn peer_secret(&self) -> Result<String, ShardError> {
        if let Some(secret) = self.peer_secret.get() {
            return Ok(secret.clone());
        }
        let store = self.lease_store()?;
        let made = uuid::Uuid::new_v4().simple().to_string();
        let secret = self.run(async move {
            if let Ok(Some(entry)) = store.entry(PEER_SECRET).await
                && entry.operation == kv::Operation::Put
            {
                return Ok(String::from_utf8_lossy(&entry.value).into_owned());
            }
            // Two processes making it at once: the first stands.
            if store.create(PEER_SECRET, made.clone().into()).await.is_ok() {
                return Ok(made);
            }
            match store.get(PEER_SECRET).await {
                Ok(Some(value)) => Ok(String::from_utf8_lossy(&value).into_owned()),
                Ok(None) => Err("the peers' secret was deleted".to_owned()),
                Err(e) => Err(e.to_string()),
            }
        });
        let secret = secret.map_err(|e| {
            ShardError::new(
                "08006",
                format!("cannot read the peers' secret from the storage engine: {e}"),
            )
        })?;
        Ok(self.peer_secret.get_or_init(|| secret).clone())
    }

    /// The leases' bucket, made if missing; an engine electing or starting is waited
    /// for up to the commit timeout.
    fn lease_store(&self) -> Result<kv::Store, ShardError> {
        let jetstream = self.lease_jetstream().clone();
        let replicas = self.replicas();
        let timeout = self.commit_timeout();
        self.run(async move {
            until_answered(timeout, "opening the partitions' leases", || {
                key_value(&jetstream, BUCKET, replicas)
            })
            .await
        })
    }
}

/// The holder's revision as last seen, and since when it has not moved (this process's
/// clock: it decides only who tries, never who writes).
#[derive(Clone, Copy, Default)]
struct Standing(Option<(u64, Instant)>);

/// How one round of waiting for a lease ended.
enum Round {
    Taken(u64),
    Held(Standing),
}

/// How long one round of [`take`] waits before its caller may do other work.
const ROUND: Duration = Duration::from_secs(1);

async fn take(store: &kv::Store, key: &str, owner: &str, standing: Standing) -> Round {
    let started = Instant::now();
    let Standing(mut standing) = standing;
    let mut told = standing.is_some();
    loop {
        match store.entry(key).await {
            Ok(None) => {
                if let Ok(revision) = store.create(key, owner.to_owned().into()).await {
                    return Round::Taken(revision);
                }
            }
            Ok(Some(entry)) if entry.operation != kv::Operation::Put => {
                if let Ok(revision) = store
                    .update(key, owner.to_owned().into(), entry.revision)
                    .await
                {
                    return Round::Taken(revision);
                }
            }
            Ok(Some(entry)) => match standing {
                Some((revision, since))
                    if revision == entry.revision && since.elapsed() >= LEASE_TTL =>
                {
                    match store
                        .update(key, owner.to_owned().into(), entry.revision)
                        .await
                    {
                        Ok(revision) => {
                            tracing::warn!(key, holder = %String::from_utf8_lossy(&entry.value), "took over a lease its holder stopped renewing");
                            return Round::Taken(revision);
                        }
                        Err(_) => standing = None,
                    }
                }
                Some((revision, _)) if revision == entry.revision => {}
                _ => {
                    if !told {
                        tracing::info!(key, holder = %String::from_utf8_lossy(&entry.value), "waiting for the partition's lease");
                        told = true;
                    }
                    standing = Some((entry.revision, Instant::now()));
                }
            },
            Err(e) if !told => {
                tracing::warn!(key, error = %e, "the partition's lease cannot be read yet");
                told = true;
            }
            Err(_) => {}
        }
        if started.elapsed() > ROUND {
            return Round::Held(Standing(standing));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn renew(
    store: kv::Store,
    key: String,
    owner: String,
    mut revision: u64,
    deposed: Arc<AtomicBool>,
) {
    let mut failing = false;
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        match store.update(&key, owner.clone().into(), revision).await {
            Ok(next) => {
                revision = next;
                failing = false;
            }
            Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                // A renewal whose answer was lost (timed out) may still have landed: the
                // lease is then ours at a later revision. Only another owner deposes.
                match store.entry(&key).await {
                    Ok(Some(entry))
                        if entry.operation == kv::Operation::Put
                            && entry.value.as_ref() == owner.as_bytes() =>
                    {
                        revision = entry.revision;
                    }
                    Ok(_) => {
                        tracing::error!(
                            key,
                            "another process took over this partition's lease; this primary steps down"
                        );
                        deposed.store(true, Ordering::Relaxed);
                        return;
                    }
                    Err(_) => {}
                }
            }
            // The engine electing or out of reach: renewal goes on; the log still fences.
            Err(e) if !failing => {
                tracing::warn!(key, error = %e, "renewing the partition's lease failed; trying on");
                failing = true;
            }
            Err(_) => {}
        }
    }
}
