//! Each partition has one writer, taken at a transaction's first write there and kept to
//! its end. Two transactions taking writers in different orders could wait for each other
//! forever; [`WaitGraph`] sees the cycle when the wait that closes it begins, and the
//! youngest transaction in the cycle fails with 40P01, as Postgres fails one transaction
//! of a deadlock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use litescale_shard::{Partition, WriterLock};
use tokio::sync::Notify;

use crate::error::SqlError;
use crate::session::interrupts::cancel::CancelTarget;

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

/// Takes `target`'s writer for the session `owner`. `held_by_age`: the age of the session's
/// transaction if it already holds other writers, so that its wait could close a cycle.
/// A CancelRequest ends the wait (only the wait: once held, a statement runs to its end,
/// so a cancel never leaves the client believing a write failed that in fact committed).
pub(crate) async fn lock_writer(
    graph: &WaitGraph,
    owner: u64,
    target: &Arc<Partition>,
    cancel: &CancelTarget,
    held_by_age: Option<u64>,
) -> Result<WriterLock, SqlError> {
    if let Some(writer) = target.try_lock_writer() {
        graph.acquired(owner, target);
        return Ok(writer);
    }
    let waiting = match held_by_age {
        Some(age) => Some(graph.wait(owner, age, target)?),
        None => None,
    };
    let give_way = async {
        match &waiting {
            Some(w) => w.give_way.notified().await,
            None => std::future::pending().await,
        }
    };
    let canceled = cancel.canceled();
    tokio::select! {
        writer = target.lock_writer() => {
            graph.acquired(owner, target);
            Ok(writer)
        }
        () = give_way => Err(deadlock()),
        () = canceled => Err(SqlError::canceled()),
    }
}
