//! Both sides of forwarding writes between litescale processes ([storage] peer_listen).
//! A peer's partition, another process being its primary (holding its lease): reads from
//! this process's file, which follows the log; writes forwarded over a peer link
//! (`peer_link`), each commit acknowledged once this file holds it (a read here after a
//! write here sees it); once the primary stops renewing its lease, the partition taken
//! over in place. And the primary's side: a peer link's writes served as this process's
//! own sessions' are (the writer held for a transaction, each commit durable on the log
//! before it is answered, with its log position).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::engine::options::ConnectionOptions;
use crate::error::ShardError;
use crate::interrupt::Interrupter;
use crate::messages::{Request, Response};
use crate::partition::backend::Backend;
use crate::partition::peer_link::Forward;
use crate::partition::writer::Held;
use crate::partition::{Durability, Partition};
use crate::storage::{FENCED, Following, Lease, SettledPart, Takeover, TxLog, Writer};

impl Partition {
    /// Partition `index` of `database` as a peer of its primary: its file following the
    /// log, writes forwarded to whoever holds the lease.
    pub(crate) fn open_peer(
        path: &Path,
        options: ConnectionOptions,
        (database, index): (&str, usize),
        following: Following,
        takeover: Takeover,
    ) -> Result<Partition, ShardError> {
        let wait = Duration::from_millis(options.storage.commit_timeout_ms);
        let forward = Forward::new(takeover, database, index, wait)?;
        Partition::following(path, options, following, Some(forward))
    }

    /// On a peer, the way to wait for the partition's lease (see [`Partition::take_over`]).
    fn takeover(&self) -> Option<Arc<Takeover>> {
        self.forward()
            .filter(|f| f.active())
            .map(|f| Arc::clone(f.takeover()))
    }

    /// With the lease taken: this process becomes the partition's primary in place. The
    /// follower stops, the file is caught up and this process's mark appended to the log,
    /// the writer opens on it, `settle` settles the transactions across partitions with a
    /// part here; writes stop being forwarded. Blocks: call it off any runtime.
    pub(crate) fn take_over(
        &self,
        lease: Lease,
        settle: impl FnOnce(&Partition) -> Result<SettledPart, ShardError>,
    ) -> Result<SettledPart, ShardError> {
        let (Backend::Local(local), Some(forward)) = (&self.backend, self.forward()) else {
            return Ok(SettledPart::default());
        };
        let follower = local
            .follower
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let taken = follower
            .ok_or_else(|| {
                ShardError::new("XX000", "the partition has no follower to take over from")
            })
            .and_then(|follower| {
                forward
                    .takeover()
                    .attach(lease, Arc::clone(&local.lost), follower)
            })
            .and_then(|on_log| {
                let acks = on_log.acks();
                Ok((
                    Writer::open_logged(&self.path, &local.options, on_log)?,
                    acks,
                ))
            });
        let (writer, acks) = match taken {
            Ok(taken) => taken,
            Err(e) => {
                // The file no longer follows the log: it must not answer.
                local.lost.store(true, Ordering::Relaxed);
                return Err(e);
            }
        };
        *local.writer.blocking_lock() = writer;
        let _ = self.durability.set(Durability::Log(acks));
        // Before any session can write here (they go to the primary until `active` is
        // cleared): the writer is this thread's.
        let settled = settle(self);
        forward.stop();
        settled
    }

    /// Whether another process is the partition's primary, this one its peer.
    pub fn is_peer(&self) -> bool {
        self.forward().is_some_and(Forward::active)
    }

    fn forward(&self) -> Option<&Forward> {
        match &self.backend {
            Backend::Local(local) => local.forward.as_ref(),
            Backend::Remote(_) => None,
        }
    }

    /// A forwarded commit at log position `position`: waits until this file holds it, so
    /// that a read here after it sees it. It is durable already: past the commit timeout
    /// the wait is given up, with a warning.
    pub(super) async fn reached_forwarded(&self, position: u64) {
        let wait = match &self.backend {
            Backend::Local(local) => Duration::from_millis(local.options.storage.commit_timeout_ms),
            Backend::Remote(_) => return,
        };
        if let Err(e) = self.reach_log_position(position, wait).await {
            tracing::warn!(position, error = %e.message, "a forwarded commit is not in this file yet");
        }
    }
}

/// On a peer: a thread waiting for the lease of partition `index` of `database`, which
/// takes the partition over once its primary stops renewing it, settling first the
/// transactions across partitions in `txlog` with a part on it (the undecided aborted,
/// its part of the decided committed). It ends when the partition closes.
pub(crate) fn take_over_when_free(
    partition: &Arc<Partition>,
    (database, index): (&str, usize),
    txlog: Arc<TxLog>,
) {
    let Some(takeover) = partition.takeover() else {
        return;
    };
    let open = Arc::downgrade(partition);
    let database = database.to_owned();
    let spawned = std::thread::Builder::new()
        .name("litescale-takeover".into())
        .spawn(move || {
            let lease = match takeover.lease(|| open.strong_count() > 0) {
                Ok(Some(lease)) => lease,
                Ok(None) => return,
                Err(e) => {
                    tracing::error!(partition = index, error = %e.message, "waiting for the partition's lease failed; this process will not take it over");
                    return;
                }
            };
            let Some(partition) = open.upgrade() else {
                return;
            };
            let settle = |p: &Partition| txlog.settle_part(index, p);
            match partition.take_over(lease, settle) {
                Ok(settled) => {
                    tracing::warn!(partition = index, "took the partition over: its primary stopped renewing its lease");
                    settled.report(&database, index);
                }
                Err(e) => tracing::error!(partition = index, error = %e.message, "taking the partition over failed; it serves no more here"),
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start a thread waiting for a partition's lease");
    }
}

/// One peer link's use of a partition's writer.
pub struct ServedWriter {
    partition: Arc<Partition>,
    /// The writer, while a transaction of the peer's is open.
    held: Option<Held>,
    open: bool,
    /// The peer's requests since the writer was taken may have changed the schema.
    schema_changed: bool,
    /// Told when they did (this process's sessions' caches of column types).
    schema_changes: Arc<std::sync::atomic::AtomicU64>,
}

impl ServedWriter {
    /// Refused (FENCED) unless this process is the partition's primary on a log: a peer
    /// of the primary, or a primary that lost its place, must not take a peer's writes.
    pub fn new(
        partition: Arc<Partition>,
        schema_changes: Arc<std::sync::atomic::AtomicU64>,
    ) -> Result<ServedWriter, ShardError> {
        // A peer taking the partition over has its durability before it stops forwarding:
        // until then its writer lock is still the forwarding one.
        let primary = matches!(partition.durability.get(), Some(Durability::Log(_)))
            && !partition.is_peer()
            && matches!(&partition.backend, Backend::Local(local) if local.serving().is_ok());
        if !primary {
            return Err(ShardError::new(
                FENCED,
                "this litescale process is not the partition's primary",
            ));
        }
        Ok(ServedWriter {
            partition,
            held: None,
            open: false,
            schema_changed: false,
            schema_changes,
        })
    }

    /// Serves one request of the peer's. A commit is answered `Committed` once the log
    /// holds it; the writer is let go when no transaction of the peer's is open.
    pub(crate) async fn serve(
        &mut self,
        request: Request,
        interrupter: Arc<Interrupter>,
    ) -> Response {
        let begins = matches!(request, Request::Begin { .. });
        let ends = request.commits() || matches!(request, Request::Rollback);
        let commits = request.commits();
        // What DDL travels as (a block's, or autocommit's batch); over-counting costs
        // only a cache refill.
        self.schema_changed |= matches!(
            request,
            Request::SchemaChange { .. } | Request::WriteBatch { .. } | Request::Maintain { .. }
        );
        let mut held = match self.held.take() {
            Some(held) => held,
            None if matches!(request, Request::Rollback) => return Response::Done,
            None => self.partition.lock_writer().await.held,
        };
        let body = held
            .call(request, interrupter)
            .await
            .unwrap_or_else(Response::Error);
        let failed = matches!(body, Response::Error(_));
        if begins && !failed {
            self.open = true;
        }
        if ends {
            self.open = false;
        }
        if self.open {
            self.held = Some(held);
            return body;
        }
        if std::mem::take(&mut self.schema_changed) {
            self.schema_changes.fetch_add(1, Ordering::SeqCst);
        }
        if !commits || failed {
            // Dropped, the writer rolls back whatever the peer left open.
            return body;
        }
        match held.release_durably().await {
            Ok(()) => Response::Committed {
                body: Box::new(body),
                position: self.partition.log_position(),
            },
            Err(e) => Response::Error(e),
        }
    }
}
