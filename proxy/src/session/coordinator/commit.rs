//! Commits a transaction that wrote several partitions with the two-phase commit whose
//! steps and recovery are described in `litescale_shard::TxLog`.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::{join_all, try_join_all};
use litescale_shard::{Transaction, TxLog};

use crate::error::SqlError;

/// A step of the commit where a test can stop the process: `LITESCALE_FAULT_PAUSE=<step>`
/// pauses the commit there for good (the test then SIGKILLs the process),
/// `LITESCALE_FAULT_STOP=<step>` stops the whole process there (SIGSTOP), to go on from
/// there when the test sends SIGCONT.
async fn fault_point(step: &str) {
    static PAUSE_AT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    static STOP_AT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let pause_at = PAUSE_AT.get_or_init(|| std::env::var("LITESCALE_FAULT_PAUSE").ok());
    let stop_at = STOP_AT.get_or_init(|| std::env::var("LITESCALE_FAULT_STOP").ok());
    if pause_at.as_deref() == Some(step) {
        // The fault-injection tests wait for this line, then SIGKILL the process.
        eprintln!("litescale: fault point {step} reached; pausing");
        std::future::pending::<()>().await;
    }
    if stop_at.as_deref() == Some(step) {
        eprintln!("litescale: fault point {step} reached; stopping");
        // SAFETY: raise(3) with a valid signal number has no memory-safety preconditions.
        unsafe {
            libc::raise(libc::SIGSTOP);
        }
    }
}

/// Commits a transaction that wrote several partitions: all parts or none, crash
/// included. On an error before the decision every part is rolled back.
pub(crate) async fn commit_across(
    txlog: &Arc<TxLog>,
    parts: BTreeMap<usize, Transaction>,
) -> Result<(), SqlError> {
    let log = Arc::clone(txlog);
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
