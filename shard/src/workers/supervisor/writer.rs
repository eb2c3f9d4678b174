//! The link to a partition's primary that its transactions run on, and what a link lost
//! under a request means for the statement in flight (40001, 08007).

use std::sync::Weak;

use crate::error::ShardError;
use crate::interrupt::Interrupter;
use crate::messages::{Reply, Request, Response};
use crate::workers::link::{Link, note_answer, roll_back_abandoned};
use crate::workers::supervisor::WorkerGroup;

/// The link to a partition's primary that its transactions run on, behind the partition's
/// writer lock (so, as in process, one transaction at a time writes the partition).
pub(crate) struct RemoteWriter {
    group: Weak<WorkerGroup>,
    link: Option<Link>,
    /// The worker `link` goes to.
    linked_worker: u64,
    /// A transaction is open on the link.
    open_transaction: bool,
}

impl RemoteWriter {
    pub fn new(group: Weak<WorkerGroup>) -> RemoteWriter {
        RemoteWriter {
            group,
            link: None,
            linked_worker: 0,
            open_transaction: false,
        }
    }

    /// Sends a request to the primary, connecting (and waiting out a failover) first if
    /// needed. A link lost while a request was on it means the primary died: its open
    /// transaction died with it (40001, retryable), and a commit in flight may or may not
    /// have happened (08007, as Postgres reports a connection lost during COMMIT).
    pub async fn call(
        &mut self,
        request: Request,
        interrupter: &Interrupter,
    ) -> Result<Reply, ShardError> {
        roll_back_abandoned(&mut self.link, &mut self.open_transaction, &request).await;
        let group = self
            .group
            .upgrade()
            .ok_or_else(|| ShardError::new("57P01", "the partition was closed"))?;
        // A link to a worker that is no longer the primary (it died, or was deposed) is
        // dropped before anything is sent on it: nothing can be lost but an open
        // transaction, which died with that worker.
        let stale = self.link.as_ref().is_some_and(|l| !l.usable())
            || group.primary_id().is_some_and(|p| p != self.linked_worker);
        if stale && self.link.take().is_some() && std::mem::take(&mut self.open_transaction) {
            return match request {
                Request::Rollback => Ok(rolled_back_already()),
                _ => Err(transaction_lost()),
            };
        }
        if self.link.is_none() {
            if matches!(request, Request::Rollback) {
                return Ok(rolled_back_already());
            }
            let (link, worker) = group.connect_primary().await?;
            self.link = Some(link);
            self.linked_worker = worker;
        }
        let link = self.link.as_mut().expect("connected above");
        link.arm(interrupter);
        let result = link.call(&request).await;
        interrupter.disarm();
        match result {
            Ok(reply) => {
                note_answer(
                    &mut self.link,
                    &mut self.open_transaction,
                    &request,
                    &reply.body,
                );
                Ok(reply)
            }
            Err(e) => {
                self.link = None;
                let was_open = std::mem::take(&mut self.open_transaction);
                group.suspect_primary();
                tracing::warn!(error = %e, "lost the link to the partition's primary");
                match request {
                    Request::Rollback => Ok(rolled_back_already()),
                    _ => Err(lost(&request, was_open)),
                }
            }
        }
    }

    pub fn in_transaction(&self) -> bool {
        self.open_transaction
    }

    /// Drops the link (its worker is being stopped); the next call connects anew.
    pub fn forget_link(&mut self) {
        self.link = None;
    }
}

/// A ROLLBACK with no transaction left to undo: it ended with the worker that held it.
pub(crate) fn rolled_back_already() -> Reply {
    Reply {
        busy_nanos: 0,
        body: Response::Done,
    }
}

/// The transaction died with the primary that held it.
pub(crate) fn transaction_lost() -> ShardError {
    ShardError::new(
        "40001",
        "the partition's primary failed; the transaction was rolled back",
    )
}

/// The error a client gets when the primary died under its request.
pub(crate) fn lost(request: &Request, was_open: bool) -> ShardError {
    if request.commits() {
        ShardError::new(
            "08007",
            "the partition's primary failed during the commit; whether it committed is unknown",
        )
    } else if was_open {
        transaction_lost()
    } else {
        ShardError::new("40001", "the partition's primary failed; retry")
    }
}
