//! A partition's snapshots in the engine's object store: its file as the log left it
//! through a message, named `<log>.<generation>.<message>` (the generation tells a log
//! from an earlier one of the same name, a dropped database's). Listed, uploaded, downloaded in place of a
//! file; the oldest beyond those kept deleted, and the log purged below the oldest kept.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::object_store::{ObjectMetadata, ObjectStore};
use chrono::{DateTime, Utc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::ShardError;
use crate::storage::replicated::engine::{LogEngine, next_listed, object_store};
use crate::storage::replicated::log::PartitionLog;

/// The object store bucket every partition's snapshots are in.
const BUCKET: &str = "litescale_snapshots";
/// The metadata key of the time the engine stored the snapshot's last message.
const TIME: &str = "log-time";
/// How long a download waits for the snapshot's next part.
const STALL: Duration = Duration::from_secs(5);

/// One snapshot of a partition.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    /// The log's last message the file holds (a commit's last part, or a primary's mark).
    pub through: u64,
    /// When the engine stored that message.
    pub time: DateTime<Utc>,
    name: String,
}

/// The snapshots of one partition's log.
pub(crate) struct Snapshots<'a> {
    engine: &'a Arc<LogEngine>,
    /// The log's name.
    log: &'a str,
    /// The log's generation; `None`: every log of that name, past ones too.
    generation: Option<u64>,
}

impl<'a> Snapshots<'a> {
    pub(crate) fn of(log: &'a PartitionLog) -> Snapshots<'a> {
        Snapshots {
            engine: log.engine(),
            log: log.name(),
            generation: Some(log.generation()),
        }
    }

    /// The snapshots of every log named `log` (which may not exist any more).
    pub(crate) fn named(engine: &'a Arc<LogEngine>, log: &'a str) -> Snapshots<'a> {
        Snapshots {
            engine,
            log,
            generation: None,
        }
    }

    /// The partition's snapshots, oldest first.
    pub(crate) fn list(&self) -> Result<Vec<Snapshot>, ShardError> {
        let (log, generation) = (self.log.to_owned(), self.generation);
        let mut snapshots = self.ask("listing the partition's snapshots", move |store| {
            let log = log.clone();
            async move {
                let mut found = Vec::new();
                let mut objects = store.list().await?;
                while let Some(info) = next_listed(&mut objects).await? {
                    if !info.deleted
                        && let Some(snapshot) = parse(&log, generation, &info.name, &info.metadata)
                    {
                        found.push(snapshot);
                    }
                }
                Ok::<_, async_nats::Error>(found)
            }
        })?;
        snapshots.sort_by_key(|s| s.through);
        Ok(snapshots)
    }

    /// Stores the file at `path` (which nothing writes meanwhile) as the partition's
    /// state through message `through`, stored by the engine at `time`.
    pub(crate) fn upload(
        &self,
        path: &Path,
        through: u64,
        time: DateTime<Utc>,
    ) -> Result<(), ShardError> {
        let generation = self.generation.unwrap_or_default();
        let meta = ObjectMetadata {
            name: format!("{}.{generation}.{through:020}", self.log),
            metadata: HashMap::from([(TIME.to_owned(), time.to_rfc3339())]),
            ..Default::default()
        };
        let path = path.to_owned();
        self.ask("storing a snapshot of the partition", move |store| {
            let (meta, path) = (meta.clone(), path.clone());
            async move {
                let mut file = tokio::fs::File::open(&path).await?;
                store.put(meta, &mut file).await?;
                Ok::<_, async_nats::Error>(())
            }
        })
    }

    /// Writes `snapshot` to `path` (which must not exist): written beside it first, then
    /// renamed, so a download cut short leaves no file. Tried once: a snapshot deleted
    /// after it was listed (a newer one replaced it) stops sending, and the caller lists
    /// the snapshots again.
    pub(crate) fn download(&self, snapshot: &Snapshot, path: &Path) -> Result<(), ShardError> {
        let mut partial = path.as_os_str().to_owned();
        partial.push(".download");
        let partial = PathBuf::from(partial);
        let (name, into) = (snapshot.name.clone(), partial.clone());
        let jetstream = self.engine.jetstream().clone();
        let replicas = self.engine.replicas();
        let downloaded = self.engine.run(async move {
            let store = object_store(&jetstream, BUCKET, replicas).await?;
            let mut object = store.get(&name).await?;
            let mut file = tokio::fs::File::create(&into).await?;
            let mut chunk = vec![0; 1 << 17];
            loop {
                let read = tokio::time::timeout(STALL, object.read(&mut chunk)).await;
                match read
                    .map_err(|_| format!("no part of snapshot {name} came for {STALL:?}"))??
                {
                    0 => break,
                    n => file.write_all(&chunk[..n]).await?,
                }
            }
            file.sync_all().await?;
            Ok::<_, async_nats::Error>(())
        });
        match downloaded {
            Ok(()) => Ok(std::fs::rename(&partial, path)?),
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                Err(ShardError::new(
                    "08006",
                    format!("reading snapshot {}: {e}", snapshot.name),
                ))
            }
        }
    }

    /// Deletes the snapshots older than the newest `kept`; the log position the log is
    /// needed from, after the oldest snapshot left (a restore reaches back to it).
    pub(crate) fn prune(&self, kept: usize) -> Result<Option<u64>, ShardError> {
        let snapshots = self.list()?;
        let Some(oldest_kept) = snapshots.len().checked_sub(kept).map(|i| &snapshots[i]) else {
            return Ok(None);
        };
        for old in &snapshots[..snapshots.len() - kept] {
            let name = old.name.clone();
            self.ask("deleting an old snapshot of the partition", move |store| {
                let name = name.clone();
                async move { Ok(store.delete(&name).await?) }
            })?;
        }
        Ok(Some(oldest_kept.through + 1))
    }

    /// Deletes every snapshot of the partition (its database dropped).
    pub(crate) fn delete_all(&self) -> Result<(), ShardError> {
        for snapshot in self.list()? {
            let name = snapshot.name.clone();
            self.ask("deleting a dropped database's snapshot", move |store| {
                let name = name.clone();
                async move { Ok(store.delete(&name).await?) }
            })?;
        }
        Ok(())
    }

    /// Runs `work` on the bucket (made with the log's replicas if missing), asking again
    /// while the engine has no answer.
    fn ask<T, F>(
        &self,
        what: &str,
        work: impl Fn(ObjectStore) -> F + Send + Sync + 'static,
    ) -> Result<T, ShardError>
    where
        T: Send + 'static,
        F: std::future::Future<Output = Result<T, async_nats::Error>> + Send,
    {
        let replicas = self.engine.replicas();
        let work = Arc::new(work);
        self.engine.ask(what, move |jetstream| {
            let work = Arc::clone(&work);
            async move { work(object_store(&jetstream, BUCKET, replicas).await?).await }
        })
    }
}

/// The snapshot an object of the bucket is, if it is one of `log` (of `generation`, if
/// given).
fn parse(
    log: &str,
    generation: Option<u64>,
    name: &str,
    metadata: &HashMap<String, String>,
) -> Option<Snapshot> {
    let mut fields = name.rsplitn(3, '.');
    let through = fields.next()?.parse().ok()?;
    let made_in: u64 = fields.next()?.parse().ok()?;
    if fields.next()? != log || generation.is_some_and(|g| g != made_in) {
        return None;
    }
    let time = DateTime::parse_from_rfc3339(metadata.get(TIME)?).ok()?;
    Some(Snapshot {
        through,
        time: time.with_timezone(&Utc),
        name: name.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_is_named_by_its_log_its_generation_and_last_message() {
        let metadata = HashMap::from([(TIME.to_owned(), "2026-12-04T21:30:00+00:00".to_owned())]);
        let name = "LS_app_P0.17.00000000000000001234";
        let s = parse("LS_app_P0", Some(17), name, &metadata).unwrap();
        assert_eq!(s.through, 1234);
        assert!(parse("LS_app_P0", None, name, &metadata).is_some());
        assert!(parse("LS_app_P0", Some(18), name, &metadata).is_none());
        assert!(parse("LS_app_P1", None, name, &metadata).is_none());
        assert!(parse("LS_app_P0", Some(17), name, &HashMap::new()).is_none());
    }
}
