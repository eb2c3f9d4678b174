//! Transactions that write several partitions.
//!
//! - Locking: each partition has one writer, taken at a transaction's first write there
//!   and kept to its end. Two transactions taking writers in different orders could wait
//!   for each other forever; [`WaitGraph`] sees the cycle when the wait that closes it
//!   begins, and the youngest transaction in the cycle fails with 40P01, as Postgres
//!   fails one transaction of a deadlock.
//! - Commit: [`commit_across`] runs the two-phase commit whose steps and recovery are
//!   described in `litescale_shard::TxLog`.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures::future::{join_all, try_join_all};
use litescale_shard::{Partition, Transaction, TxLog, WriterLock};
use tokio::sync::Notify;

use crate::error::SqlError;
use crate::session::Session;

/// Who holds and who waits for which partition writer, across all sessions.
#[derive(Default)]
pub struct WaitGraph {
    state: Mutex<WaitState>,
}

#[derive(Default)]
struct WaitState {
    /// Partition (by address) → the session that last took its writer.
    holders: HashMap<usize, u64>,
    /// Session → its wait for a partition's writer while it holds others.
    waits: HashMap<u64, Wait>,
}

struct Wait {
    partition: usize,
    /// The waiting transaction's age ([`sequence`] when its block began).
    age: u64,
    /// Told when the transaction is chosen to give way in a deadlock.
    give_way: Arc<Notify>,
}

fn key(partition: &Arc<Partition>) -> usize {
    Arc::as_ptr(partition) as usize
}

/// Unique, increasing numbers: session identities in the wait graph and transaction ages.
pub fn sequence() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn deadlock() -> SqlError {
    metrics::counter!("litescale_deadlocks_total").increment(1);
    SqlError::new(
        "40P01",
        "deadlock detected: this transaction and another each wait for a partition the other is writing; retry the transaction",
    )
}

/// A session's wait; removed from the graph when the wait ends, however it ends.
struct Waiting<'g> {
    graph: &'g WaitGraph,
    owner: u64,
    give_way: Arc<Notify>,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.graph.lock().waits.remove(&self.owner);
    }
}

impl WaitGraph {
    fn lock(&self) -> std::sync::MutexGuard<'_, WaitState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn acquired(&self, owner: u64, partition: &Arc<Partition>) {
        self.lock().holders.insert(key(partition), owner);
    }

    /// Records that `owner`'s transaction (of `age`), holding other writers, waits for
    /// `partition`'s. If that closes a cycle, the youngest transaction in it gives way:
    /// this one (an error now) or another waiting one (told through its `give_way`). A
    /// transaction retried after giving way is older than those begun after it, so none
    /// gives way forever. Each session records what it holds before it asks for more, so
    /// the wait that closes a cycle sees all of it.
    fn wait(
        &self,
        owner: u64,
        age: u64,
        partition: &Arc<Partition>,
    ) -> Result<Waiting<'_>, SqlError> {
        let mut state = self.lock();
        let mut cycle = vec![(age, owner)];
        let mut next = key(partition);
        let mut closed = false;
        for _ in 0..=state.waits.len() {
            let Some(&holder) = state.holders.get(&next) else {
                break;
            };
            if holder == owner {
                closed = true;
                break;
            }
            let Some(wait) = state.waits.get(&holder) else {
                break;
            };
            cycle.push((wait.age, holder));
            next = wait.partition;
        }
        if closed {
            let (_, youngest) = cycle.iter().max().copied().unwrap_or((age, owner));
            match state.waits.get(&youngest) {
                Some(wait) if youngest != owner => wait.give_way.notify_one(),
                _ => return Err(deadlock()),
            }
        }
        let give_way = Arc::new(Notify::new());
        state.waits.insert(
            owner,
            Wait {
                partition: key(partition),
                age,
                give_way: Arc::clone(&give_way),
            },
        );
        Ok(Waiting {
            graph: self,
            owner,
            give_way,
        })
    }
}

/// Takes a partition's writer for the session. `held_by_age`: the age of the session's
/// transaction if it already holds other writers, so that its wait could close a cycle.
/// A CancelRequest ends the wait (only the wait: once held, a statement runs to its end,
/// so a cancel never leaves the client believing a write failed that in fact committed).
pub(crate) async fn lock_writer(
    session: &Session,
    partition: usize,
    held_by_age: Option<u64>,
) -> Result<WriterLock, SqlError> {
    let target = &session.partitions[partition];
    let graph = &session.wait_graph;
    if let Some(writer) = target.try_lock_writer() {
        graph.acquired(session.owner, target);
        return Ok(writer);
    }
    let waiting = match held_by_age {
        Some(age) => Some(graph.wait(session.owner, age, target)?),
        None => None,
    };
    let give_way = async {
        match &waiting {
            Some(w) => w.give_way.notified().await,
            None => std::future::pending().await,
        }
    };
    let canceled = session.cancel.canceled();
    tokio::select! {
        writer = target.lock_writer() => {
            graph.acquired(session.owner, target);
            Ok(writer)
        }
        () = give_way => Err(deadlock()),
        () = canceled => Err(SqlError::canceled()),
    }
}

/// A step of the commit where a test can stop the process (see `LITESCALE_FAULT_PAUSE`).
async fn fault_point(step: &str) {
    static PAUSE_AT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let pause_at = PAUSE_AT.get_or_init(|| std::env::var("LITESCALE_FAULT_PAUSE").ok());
    if pause_at.as_deref() == Some(step) {
        // The fault-injection tests wait for this line, then SIGKILL the process.
        eprintln!("litescale: fault point {step} reached; pausing");
        std::future::pending::<()>().await;
    }
}

/// Commits a transaction that wrote several partitions: all parts or none, crash
/// included. On an error before the decision every part is rolled back.
pub(crate) async fn commit_across(
    session: &Session,
    parts: BTreeMap<usize, Transaction>,
) -> Result<(), SqlError> {
    let log = Arc::clone(&session.txlog);
    let participants: Vec<usize> = parts.keys().copied().collect();
    let txid = log.begin();
    let abort = |e: SqlError| {
        log.forget(txid, &participants);
        e
    };
    fault_point("before-prepare").await;
    // The first part alone, then the others together: their fsyncs overlap, and a test
    // can stop the process with some parts prepared and others not.
    let mut parts: Vec<(usize, Transaction)> = parts.into_iter().collect();
    let rest = parts.split_off(1);
    let mut prepared = try_join_all(parts.into_iter().map(|part| prepare(&log, txid, part)))
        .await
        .map_err(abort)?;
    fault_point("after-prepare").await;
    prepared.extend(
        try_join_all(rest.into_iter().map(|part| prepare(&log, txid, part)))
            .await
            .map_err(abort)?,
    );
    let decider = Arc::clone(&log);
    let decided = participants.clone();
    blocking(move || decider.decide(txid, &decided))
        .await
        .map_err(abort)?;
    fault_point("after-decision").await;
    // From the decision on, every part must commit even if this session goes away (a
    // dropped future would roll the remaining parts back): the commits run in their own
    // task.
    let committer = Arc::clone(&log);
    let committed = participants.clone();
    let failed = tokio::spawn(async move {
        let commit = |(p, part): (usize, Transaction)| {
            let oldest = committer.oldest_active();
            async move {
                let result = part.commit_decided(txid, oldest).await;
                if let Err(e) = &result {
                    tracing::error!(partition = p, txid, error = %e, "a decided part failed to commit; recovery will finish it");
                }
                result.err().map(|_| p)
            }
        };
        let rest = prepared.split_off(1);
        let mut failed: Vec<usize> = join_all(prepared.into_iter().map(commit))
            .await
            .into_iter()
            .flatten()
            .collect();
        fault_point("after-commit").await;
        failed.extend(join_all(rest.into_iter().map(commit)).await.into_iter().flatten());
        if failed.is_empty() {
            committer.forget(txid, &committed);
            metrics::counter!("litescale_cross_partition_commits_total").increment(1);
        }
        failed
    })
    .await
    .map_err(|e| SqlError::new("XX000", format!("commit task failed: {e}")))?;
    if !failed.is_empty() {
        // The log keeps the transaction: the next open of the database finishes it.
        return Err(SqlError::new(
            "XX000",
            format!(
                "the transaction is committed, but partitions {failed:?} could not apply their part yet; it is in the transaction log and is finished when the database is next opened"
            ),
        ));
    }
    Ok(())
}

/// Step 1 for one part: its redo, durable.
async fn prepare(
    log: &Arc<TxLog>,
    txid: u64,
    (p, mut part): (usize, Transaction),
) -> Result<(usize, Transaction), SqlError> {
    let redo = part.prepare().await?;
    let log = Arc::clone(log);
    blocking(move || log.prepare(txid, p, &redo)).await?;
    Ok((p, part))
}

async fn blocking(
    job: impl FnOnce() -> Result<(), litescale_shard::ShardError> + Send + 'static,
) -> Result<(), SqlError> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| SqlError::new("XX000", format!("commit task failed: {e}")))?
        .map_err(SqlError::from)
}
