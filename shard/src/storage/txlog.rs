//! The coordinator's log of cross-partition transactions, kept in the storage directory
//! (`<database>/txlog/`) so that whoever opens the database next (a restarted proxy, a
//! new worker) can finish what a crashed one left.
//!
//! A transaction `T` that wrote partitions P commits in four steps:
//! 1. prepare: each part's redo is written to `T.<p>.redo` and fsynced;
//! 2. decide: `T.commit` (the participants) is written, fsynced and renamed into place:
//!    from here on `T` is committed;
//! 3. each partition commits its part together with a row `T` in `_litescale_commits`;
//! 4. forget: the files go.
//!
//! Recovery (when the database opens, before any write) replays the redo of every
//! decided `T` on each partition without `T`'s row, and deletes undecided files: those
//! parts never committed anywhere, since partitions commit only after the decision.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::ShardError;
use crate::storage::fence::FENCED;
use crate::storage::redo::Redo;

/// A partition as recovery sees it: it commits its part of a decided transaction from that
/// part's redo unless it already has (returning whether it replayed), and drops its
/// records of committed transactions. The partition the proxy opens implements it
/// (partition/), so the log needs to know nothing of how a partition is served.
pub(crate) trait Participant {
    fn finish_decided(
        &self,
        txid: u64,
        redo: impl FnOnce() -> Result<Redo, ShardError>,
    ) -> Result<bool, ShardError>;

    fn forget_commits_below(&self, txid: u64) -> Result<(), ShardError>;
}

/// How a transaction was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Committed, with these participants.
    Commit(Vec<usize>),
    /// Aborted by a recovery that found it undecided (kept, so that a coordinator that
    /// was only paused cannot decide it after all).
    Abort,
}

/// Where the log's entries are kept: the data directory ([`FileStore`]) or, on replicated
/// storage, the engine (storage/replicated/decisions.rs), so that no decision sits on
/// one host's disk.
pub(crate) trait TxStore: Send + Sync {
    /// `partition`'s redo of `txid`, durable.
    fn put_redo(&self, txid: u64, partition: usize, redo: &[u8]) -> Result<(), ShardError>;
    fn redo(&self, txid: u64, partition: usize) -> Result<Vec<u8>, ShardError>;
    /// Decides `txid` as `decision` unless it was decided before (the first decision
    /// stands); the decision that stands, durable.
    fn decide(&self, txid: u64, decision: Decision) -> Result<Decision, ShardError>;
    /// The logged transactions, by id.
    fn entries(&self) -> Result<BTreeMap<u64, Logged>, ShardError>;
    /// Drops `txid`'s redo of these partitions and a commit decision (an abort stays).
    fn forget(&self, txid: u64, partitions: &[usize]);
}

pub struct TxLog {
    store: Box<dyn TxStore>,
    next: AtomicU64,
    /// Transactions between `begin` and `forget`: their rows in `_litescale_commits` may
    /// still be needed by recovery.
    active: Mutex<BTreeSet<u64>>,
    /// The oldest decided transaction left in the log for external primaries to finish:
    /// commit records from it on are kept.
    keep_from: AtomicU64,
}

/// What recovery did with one logged transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovered {
    /// Decided: its part was replayed on these partitions (the others had committed it).
    Finished { txid: u64, replayed: Vec<usize> },
    /// Never decided: its prepared parts were discarded.
    Undone { txid: u64 },
}

/// What the log holds of one transaction.
#[derive(Default)]
pub(crate) struct Logged {
    pub decided: Option<Decision>,
    /// The partitions whose part is prepared.
    pub prepared: Vec<usize>,
}

fn io(e: std::io::Error) -> ShardError {
    ShardError::new("58030", format!("transaction log: {e}"))
}

impl TxLog {
    /// The log in the data directory's `dir`.
    pub(crate) fn in_directory(dir: PathBuf, durable: bool) -> Result<TxLog, ShardError> {
        TxLog::open(Box::new(FileStore::open(dir, durable)?))
    }

    pub(crate) fn open(store: Box<dyn TxStore>) -> Result<TxLog, ShardError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let log = TxLog {
            store,
            next: AtomicU64::new(now),
            active: Mutex::new(BTreeSet::new()),
            keep_from: AtomicU64::new(u64::MAX),
        };
        // Never reuse an id still logged, whatever the clock says.
        if let Some(last) = log.store.entries()?.keys().next_back() {
            log.next.fetch_max(last + 1, Ordering::Relaxed);
        }
        Ok(log)
    }

    /// A new transaction id, unique in this database's log.
    pub fn begin(&self) -> u64 {
        let txid = self.next.fetch_add(1, Ordering::Relaxed);
        self.active_set().insert(txid);
        txid
    }

    fn active_set(&self) -> std::sync::MutexGuard<'_, BTreeSet<u64>> {
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The oldest transaction still in flight: rows in `_litescale_commits` below it
    /// belong to forgotten transactions and can go.
    pub fn oldest_active(&self) -> u64 {
        let active = self.active_set().first().copied().unwrap_or(u64::MAX);
        active.min(self.keep_from.load(Ordering::Relaxed))
    }

    /// Step 1: `partition`'s part of `txid` is durable.
    pub fn prepare(&self, txid: u64, partition: usize, redo: &Redo) -> Result<(), ShardError> {
        self.store.put_redo(txid, partition, &redo.encode())
    }

    /// Step 2: `txid` is committed, whatever happens next; refused (FENCED) when a new
    /// primary's recovery aborted it first.
    pub fn decide(&self, txid: u64, participants: &[usize]) -> Result<(), ShardError> {
        match self
            .store
            .decide(txid, Decision::Commit(participants.to_vec()))?
        {
            Decision::Commit(_) => Ok(()),
            Decision::Abort => Err(ShardError::new(
                FENCED,
                "another primary's recovery aborted this transaction before it was decided",
            )),
        }
    }

    /// Step 4 (or the end of an aborted transaction): its entries go.
    pub fn forget(&self, txid: u64, participants: &[usize]) {
        self.store.forget(txid, participants);
        self.active_set().remove(&txid);
    }

    /// An undecided transaction found by recovery, decided: aborted, unless its
    /// coordinator (still running elsewhere) decided it first.
    fn settle(&self, txid: u64, logged: Logged) -> Result<Option<Vec<usize>>, ShardError> {
        let decision = match logged.decided {
            Some(decision) => decision,
            None => self.store.decide(txid, Decision::Abort)?,
        };
        match decision {
            Decision::Commit(participants) => Ok(Some(participants)),
            Decision::Abort => {
                if !logged.prepared.is_empty() {
                    self.forget(txid, &logged.prepared);
                }
                Ok(None)
            }
        }
    }

    /// Forgets the transactions a crash left undecided (no partition committed them). For
    /// external workers, whose primaries finish the decided ones (`finish_decided_parts`):
    /// those stay in the log, and their commit records are kept from pruning.
    pub(crate) fn drop_undecided(&self) -> Result<(), ShardError> {
        for (txid, logged) in self.store.entries()? {
            if self.settle(txid, logged)?.is_some() {
                self.keep_from.fetch_min(txid, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    /// A primary that took partition `index` over while the database stays open
    /// elsewhere: decides aborted each undecided transaction with a part on it (that
    /// part was open on the lost primary's writer and is gone with it; a coordinator
    /// that decides later finds the abort and fails, as after a recovery), and commits
    /// its part of each decided transaction the previous primary had not. Forgetting the
    /// decided ones is left to their coordinators (they may be running).
    pub(crate) fn settle_part(
        &self,
        index: usize,
        partition: &impl Participant,
    ) -> Result<SettledPart, ShardError> {
        let mut settled = SettledPart::default();
        for (txid, logged) in self.store.entries()? {
            let participants = match &logged.decided {
                Some(Decision::Commit(participants)) => participants.clone(),
                Some(Decision::Abort) => continue,
                None if logged.prepared.contains(&index) => match self.settle(txid, logged)? {
                    // Its coordinator decided first.
                    Some(participants) => participants,
                    None => {
                        settled.aborted.push(txid);
                        continue;
                    }
                },
                None => continue,
            };
            if participants.contains(&index)
                && partition
                    .finish_decided(txid, || Redo::decode(&self.store.redo(txid, index)?))?
            {
                settled.replayed.push(txid);
            }
        }
        Ok(settled)
    }

    /// Finishes or undoes every transaction the log holds. Runs before the database
    /// accepts writes.
    pub(crate) fn recover(
        &self,
        partitions: &[std::sync::Arc<impl Participant>],
    ) -> Result<Vec<Recovered>, ShardError> {
        let mut done = Vec::new();
        for (txid, logged) in self.store.entries()? {
            let undecided = logged.decided.is_none();
            let Some(participants) = self.settle(txid, logged)? else {
                if undecided {
                    done.push(Recovered::Undone { txid });
                }
                continue;
            };
            let mut replayed = Vec::new();
            for &p in &participants {
                let partition = partitions.get(p).ok_or_else(|| {
                    ShardError::new(
                        "XX001",
                        format!("transaction {txid} names partition {p}, which does not exist"),
                    )
                })?;
                let redo = || Redo::decode(&self.store.redo(txid, p)?);
                if partition.finish_decided(txid, redo)? {
                    replayed.push(p);
                }
            }
            self.forget(txid, &participants);
            done.push(Recovered::Finished { txid, replayed });
        }
        for partition in partitions {
            partition.forget_commits_below(u64::MAX)?;
        }
        Ok(done)
    }
}

/// What a new primary of one partition did with the transactions across partitions it
/// found with a part on it (see [`TxLog::settle_part`]).
#[derive(Debug, Default)]
pub(crate) struct SettledPart {
    /// Undecided: decided aborted.
    pub aborted: Vec<u64>,
    /// Decided committed, its part here not yet: committed here.
    pub replayed: Vec<u64>,
}

impl SettledPart {
    /// Says what was done, if anything, for partition `partition` of `database`.
    pub(crate) fn report(&self, database: &str, partition: usize) {
        for txid in &self.aborted {
            tracing::warn!(
                database,
                partition,
                txid,
                "undid a cross-partition transaction a lost primary left undecided"
            );
        }
        for txid in &self.replayed {
            tracing::warn!(
                database,
                partition,
                txid,
                "finished the part here of a committed cross-partition transaction a lost primary left"
            );
        }
    }
}

/// The log as files of the data directory's `<database>/txlog/`: `<txid>.<p>.redo`, and
/// `<txid>.commit` listing the participants. One host serves the directory, so an abort
/// needs no record: the redo files go.
struct FileStore {
    dir: PathBuf,
    /// fsync files and the directory (off only when storage.synchronous is off).
    durable: bool,
}

impl FileStore {
    fn open(dir: PathBuf, durable: bool) -> Result<FileStore, ShardError> {
        std::fs::create_dir_all(&dir).map_err(io)?;
        Ok(FileStore { dir, durable })
    }

    /// Writes a whole file and fsyncs it; `sync_directory` makes its name (and the names
    /// of the files written before it) durable too.
    fn write_durably(
        &self,
        path: &Path,
        bytes: &[u8],
        sync_directory: bool,
    ) -> Result<(), ShardError> {
        let tmp = path.with_extension("tmp");
        let mut file = std::fs::File::create(&tmp).map_err(io)?;
        file.write_all(bytes).map_err(io)?;
        if self.durable {
            file.sync_all().map_err(io)?;
        }
        // The rename makes the file appear whole or not at all.
        std::fs::rename(&tmp, path).map_err(io)?;
        if self.durable && sync_directory {
            std::fs::File::open(&self.dir)
                .and_then(|d| d.sync_all())
                .map_err(io)?;
        }
        Ok(())
    }
}

fn redo_path(dir: &Path, txid: u64, partition: usize) -> PathBuf {
    dir.join(format!("{txid:020}.{partition}.redo"))
}

fn decision_path(dir: &Path, txid: u64) -> PathBuf {
    dir.join(format!("{txid:020}.commit"))
}

impl TxStore for FileStore {
    fn put_redo(&self, txid: u64, partition: usize, redo: &[u8]) -> Result<(), ShardError> {
        // The decision's directory fsync makes this file's name durable with its own.
        self.write_durably(&redo_path(&self.dir, txid, partition), redo, false)
    }

    fn redo(&self, txid: u64, partition: usize) -> Result<Vec<u8>, ShardError> {
        std::fs::read(redo_path(&self.dir, txid, partition)).map_err(io)
    }

    fn decide(&self, txid: u64, decision: Decision) -> Result<Decision, ShardError> {
        if let Decision::Commit(participants) = &decision {
            let list: Vec<String> = participants.iter().map(usize::to_string).collect();
            self.write_durably(
                &decision_path(&self.dir, txid),
                list.join(",").as_bytes(),
                true,
            )?;
        }
        Ok(decision)
    }

    fn forget(&self, txid: u64, partitions: &[usize]) {
        for p in partitions {
            let _ = std::fs::remove_file(redo_path(&self.dir, txid, *p));
        }
        let _ = std::fs::remove_file(decision_path(&self.dir, txid));
    }

    fn entries(&self) -> Result<BTreeMap<u64, Logged>, ShardError> {
        let mut entries: BTreeMap<u64, Logged> = BTreeMap::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let mut parts = name.split('.');
            let Some(txid) = parts.next().and_then(|t| t.parse::<u64>().ok()) else {
                continue;
            };
            let slot = entries.entry(txid).or_default();
            match (parts.next(), parts.next()) {
                (Some("commit"), None) => {
                    let text = std::fs::read_to_string(&path).map_err(io)?;
                    slot.decided = Some(Decision::Commit(parse_participants(&text, name)?));
                }
                (Some(p), Some("redo")) => {
                    if let Ok(p) = p.parse() {
                        slot.prepared.push(p);
                    }
                }
                // A `.tmp` never renamed: the step it belonged to did not happen.
                _ => {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        Ok(entries)
    }
}

/// A commit decision's participants, `0,2,3`.
pub(crate) fn parse_participants(text: &str, what: &str) -> Result<Vec<usize>, ShardError> {
    text.split(',')
        .map(|p| p.trim().parse())
        .collect::<Result<Vec<usize>, _>>()
        .map_err(|_| ShardError::new("XX001", format!("corrupt transaction decision {what}")))
}

/// A new primary's catch-up: commits its partition's part of every decided transaction
/// the previous primary had not committed. Reads the log only (the coordinator may be
/// writing it), and leaves forgetting to the coordinator. Returns the transactions replayed.
pub(crate) fn finish_decided_parts(
    dir: &Path,
    partition: usize,
    writer: &impl Participant,
) -> Result<Vec<u64>, ShardError> {
    let mut replayed = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(replayed),
        Err(e) => return Err(io(e)),
    };
    for entry in entries {
        let path = entry.map_err(io)?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let Some(txid) = name
            .strip_suffix(".commit")
            .and_then(|t| t.parse::<u64>().ok())
        else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // forgotten meanwhile: every part committed
        };
        if !text.split(',').any(|p| p.trim().parse() == Ok(partition)) {
            continue;
        }
        let redo = redo_path(dir, txid, partition);
        if writer.finish_decided(txid, || Redo::decode(&std::fs::read(&redo).map_err(io)?))? {
            replayed.push(txid);
        }
    }
    Ok(replayed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Interrupter, Storage, TypeCatalog};
    use litescale_config::Config;
    use std::sync::Arc;

    fn storage(dir: &Path) -> Storage {
        let config: Config =
            toml::from_str(&format!("data_dir = {:?}\n[partitions]\ncount = 2\n", dir)).unwrap();
        let types = TypeCatalog {
            of_declared: |_| (25, -1),
            format: |_, _| None,
            all: || vec![(25, "text", -1, 'S')],
            check_stored: |_, _| Ok(()),
            server_version: ("15.18", "150018"),
        };
        Storage::open(&config, &["db"], types).unwrap()
    }

    fn count(dir: &Path, partition: usize) -> i64 {
        let c = rusqlite::Connection::open(dir.join("db").join(format!("{partition}.db"))).unwrap();
        c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap()
    }

    /// Runs a transaction inserting one row in each partition up to `step`, then
    /// "crashes": everything is dropped without the remaining steps.
    async fn crash_at(dir: &Path, step: &str) {
        let s = storage(dir);
        let db = s.database("db").unwrap();
        for p in &db.partitions {
            p.lock_writer()
                .await
                .write_batch("CREATE TABLE IF NOT EXISTS t (v INT)".into())
                .await
                .unwrap();
        }
        let mut parts = Vec::new();
        for p in &db.partitions {
            let mut t = p.lock_writer().await.begin_recorded().await.unwrap();
            t.execute(
                "INSERT INTO t VALUES (1)".into(),
                vec![],
                Arc::new(Interrupter::default()),
            )
            .await
            .unwrap();
            parts.push(t);
        }
        let txid = db.txlog.begin();
        let redo = parts[0].prepare().await.unwrap();
        db.txlog.prepare(txid, 0, &redo).unwrap();
        if step == "after one prepare" {
            return;
        }
        let redo = parts[1].prepare().await.unwrap();
        db.txlog.prepare(txid, 1, &redo).unwrap();
        db.txlog.decide(txid, &[0, 1]).unwrap();
        let first = parts.remove(0);
        first
            .commit_decided(txid, db.txlog.oldest_active())
            .await
            .unwrap();
        assert_eq!(step, "after one commit");
    }

    #[tokio::test]
    async fn recovery_finishes_decided_and_undoes_undecided_transactions() {
        let dir = tempfile::tempdir().unwrap();
        crash_at(dir.path(), "after one prepare").await;
        assert_eq!((count(dir.path(), 0), count(dir.path(), 1)), (0, 0));
        let s = storage(dir.path());
        drop(s.database("db").unwrap());
        assert_eq!(
            (count(dir.path(), 0), count(dir.path(), 1)),
            (0, 0),
            "undone"
        );
        s.close();

        crash_at(dir.path(), "after one commit").await;
        assert_eq!(
            (count(dir.path(), 0), count(dir.path(), 1)),
            (1, 0),
            "half committed"
        );
        let s = storage(dir.path());
        drop(s.database("db").unwrap());
        assert_eq!(
            (count(dir.path(), 0), count(dir.path(), 1)),
            (1, 1),
            "finished by recovery"
        );
        assert_eq!(
            std::fs::read_dir(dir.path().join("db").join("txlog"))
                .unwrap()
                .count(),
            0
        );
    }
}
