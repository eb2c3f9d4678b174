//! A database's log of cross-partition transactions kept in the engine rather than on one
//! host's disk (storage/txlog.rs' `TxStore`): each part's redo an object of the
//! `litescale_redo` bucket, each decision a key of the `litescale_decisions` key-value
//! bucket. A decision is made by creating its key, so the first one stands: a
//! coordinator paused past a takeover cannot commit a transaction the new primary's
//! recovery found undecided and aborted. Abort decisions stay (they are only made by
//! recoveries, after crashes); commit decisions go once every part committed.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_nats::jetstream::kv;
use bytes::Bytes;
use tokio::io::AsyncReadExt;

use crate::error::ShardError;
use crate::storage::replicated::engine::{
    LogEngine, database_key, key_value, next_listed, object_store,
};
use crate::storage::txlog::{Decision, Logged, TxStore, parse_participants};

const REDO_BUCKET: &str = "litescale_redo";
const DECISION_BUCKET: &str = "litescale_decisions";
const ABORT: &str = "abort";

/// One database's transaction log in the engine.
pub(crate) struct EngineTxStore {
    engine: Arc<LogEngine>,
    /// `LS_<database>.<generation>.`: what this database's keys and objects start with.
    /// The generation, its first partition's log's, tells it from a dropped database of
    /// the same name whose entries a failed DROP left behind.
    prefix: String,
}

impl EngineTxStore {
    pub(crate) fn new(engine: &Arc<LogEngine>, database: &str, generation: u64) -> EngineTxStore {
        EngineTxStore {
            engine: Arc::clone(engine),
            prefix: format!("{}.{generation}.", database_key(database)),
        }
    }

    fn decision_key(&self, txid: u64) -> String {
        format!("{}{txid:020}", self.prefix)
    }

    fn redo_name(&self, txid: u64, partition: usize) -> String {
        format!("{}{txid:020}.{partition}", self.prefix)
    }

    /// Every entry of the database: deleted when the database is dropped.
    pub(crate) fn delete_all(&self) -> Result<(), ShardError> {
        for (txid, logged) in self.entries()? {
            self.forget(txid, &logged.prepared);
            let (key, replicas) = (self.decision_key(txid), self.engine.replicas());
            self.engine
                .ask("deleting a dropped database's decision", move |js| {
                    let key = key.clone();
                    async move {
                        key_value(&js, DECISION_BUCKET, replicas)
                            .await?
                            .purge(&key)
                            .await?;
                        Ok(())
                    }
                })?;
        }
        Ok(())
    }
}

impl TxStore for EngineTxStore {
    fn put_redo(&self, txid: u64, partition: usize, redo: &[u8]) -> Result<(), ShardError> {
        let (name, replicas) = (self.redo_name(txid, partition), self.engine.replicas());
        let redo = Bytes::copy_from_slice(redo);
        self.engine.ask("storing a transaction's part", move |js| {
            let (name, redo) = (name.clone(), redo.clone());
            async move {
                let store = object_store(&js, REDO_BUCKET, replicas).await?;
                store.put(name.as_str(), &mut redo.as_ref()).await?;
                Ok(())
            }
        })
    }

    fn redo(&self, txid: u64, partition: usize) -> Result<Vec<u8>, ShardError> {
        let (name, replicas) = (self.redo_name(txid, partition), self.engine.replicas());
        self.engine.ask("reading a transaction's part", move |js| {
            let name = name.clone();
            async move {
                let store = object_store(&js, REDO_BUCKET, replicas).await?;
                let mut redo = Vec::new();
                store.get(&name).await?.read_to_end(&mut redo).await?;
                Ok(redo)
            }
        })
    }

    fn decide(&self, txid: u64, decision: Decision) -> Result<Decision, ShardError> {
        let (key, replicas) = (self.decision_key(txid), self.engine.replicas());
        let value = Bytes::from(match &decision {
            Decision::Commit(participants) => participants
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(","),
            Decision::Abort => ABORT.to_owned(),
        });
        let standing = self.engine.ask("deciding a transaction", move |js| {
            let (key, value) = (key.clone(), value.clone());
            async move {
                let store = key_value(&js, DECISION_BUCKET, replicas).await?;
                match store.create(&key, value.clone()).await {
                    Ok(_) => Ok(value),
                    // Decided before (this create's own earlier attempt included): that
                    // decision stands.
                    Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => Ok(store
                        .get(&key)
                        .await?
                        .ok_or("a decision vanished while it was read")?),
                    Err(e) => Err(e.into()),
                }
            }
        })?;
        parse_decision(&standing, txid)
    }

    fn entries(&self) -> Result<BTreeMap<u64, Logged>, ShardError> {
        let (prefix, replicas) = (self.prefix.clone(), self.engine.replicas());
        let (redo, decisions) = self.engine.ask("reading the transaction log", move |js| {
            let prefix = prefix.clone();
            async move {
                let mut redo = Vec::new();
                let objects = object_store(&js, REDO_BUCKET, replicas).await?;
                let mut listed = objects.list().await?;
                while let Some(info) = next_listed(&mut listed).await? {
                    if let Some(name) = info.name.strip_prefix(&prefix)
                        && !info.deleted
                    {
                        redo.push(name.to_owned());
                    }
                }
                let store = key_value(&js, DECISION_BUCKET, replicas).await?;
                let mut decisions = Vec::new();
                let mut keys = store.keys().await?;
                while let Some(key) = next_listed(&mut keys).await? {
                    if let Some(txid) = key.strip_prefix(&prefix)
                        && let Some(value) = store.get(&key).await?
                    {
                        decisions.push((txid.to_owned(), value));
                    }
                }
                Ok((redo, decisions))
            }
        })?;
        let mut entries: BTreeMap<u64, Logged> = BTreeMap::new();
        for name in redo {
            if let Some((txid, p)) = name.split_once('.')
                && let (Ok(txid), Ok(p)) = (txid.parse(), p.parse())
            {
                entries.entry(txid).or_default().prepared.push(p);
            }
        }
        for (txid, value) in decisions {
            if let Ok(txid) = txid.parse() {
                entries.entry(txid).or_default().decided = Some(parse_decision(&value, txid)?);
            }
        }
        Ok(entries)
    }

    fn forget(&self, txid: u64, partitions: &[usize]) {
        let names: Vec<String> = partitions
            .iter()
            .map(|&p| self.redo_name(txid, p))
            .collect();
        let (key, replicas) = (self.decision_key(txid), self.engine.replicas());
        let forgotten = self.engine.ask("forgetting a transaction", move |js| {
            let (names, key) = (names.clone(), key.clone());
            async move {
                let objects = object_store(&js, REDO_BUCKET, replicas).await?;
                for name in &names {
                    match objects.delete(name).await {
                        Ok(()) => {}
                        Err(e)
                            if e.kind()
                                == async_nats::jetstream::object_store::DeleteErrorKind::NotFound => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                let decisions = key_value(&js, DECISION_BUCKET, replicas).await?;
                if decisions
                    .get(&key)
                    .await?
                    .is_some_and(|value| value.as_ref() != ABORT.as_bytes())
                {
                    decisions.purge(&key).await?;
                }
                Ok(())
            }
        });
        if let Err(e) = forgotten {
            // Left in the log: the next open of the database finds it settled and
            // forgets it then.
            tracing::warn!(txid, error = %e.message, "could not forget a transaction");
        }
    }
}

fn parse_decision(value: &[u8], txid: u64) -> Result<Decision, ShardError> {
    let text = String::from_utf8_lossy(value);
    if text == ABORT {
        return Ok(Decision::Abort);
    }
    parse_participants(&text, &txid.to_string()).map(Decision::Commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_read_back_as_written() {
        assert_eq!(parse_decision(b"abort", 1).unwrap(), Decision::Abort);
        assert_eq!(
            parse_decision(b"0,2", 1).unwrap(),
            Decision::Commit(vec![0, 2])
        );
        assert!(parse_decision(b"zero", 1).is_err());
    }
}
