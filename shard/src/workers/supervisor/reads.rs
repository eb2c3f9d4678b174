//! Reads on a partition's workers: which worker takes the next one (balance), and a read
//! or stream retried on another worker when the one serving it dies.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use litescale_config::Balance;

use crate::error::ShardError;
use crate::interrupt::Interrupter;
use crate::messages::{Reply, Request, Response, Role};
use crate::row_stream::StreamForward;
use crate::usage::Usage;
use crate::value::Value;
use crate::workers::link::Link;
use crate::workers::supervisor::WorkerGroup;
use crate::workers::supervisor::handle::WorkerHandle;

impl WorkerGroup {
    /// The worker the next read goes to: a healthy replica by the configured balance; the
    /// primary when configured to take reads or when no replica is healthy.
    async fn pick_reader(&self) -> Result<Arc<WorkerHandle>, ShardError> {
        self.ensure_started().await?;
        let workers = self.snapshot();
        let primary_reads = self.launch.workers.primary_reads;
        let candidates: Vec<_> = workers
            .iter()
            .filter(|w| w.is_healthy() && (primary_reads || w.role() == Role::Replica))
            .collect();
        let chosen = match self.launch.workers.balance {
            _ if candidates.is_empty() => None,
            Balance::RoundRobin => {
                let n = self.next_read.fetch_add(1, Ordering::Relaxed);
                Some(candidates[n % candidates.len()])
            }
            Balance::LeastOutstanding => candidates
                .iter()
                .min_by_key(|w| w.outstanding.load(Ordering::Relaxed))
                .copied(),
        };
        if let Some(w) = chosen {
            return Ok(Arc::clone(w));
        }
        let primary = self.primary.borrow().clone();
        primary.ok_or_else(|| {
            ShardError::new(
                "57P03",
                format!("partition {} has no healthy worker", self.launch.partition),
            )
        })
    }

    /// A read on a replica. One a worker's death interrupts is retried on another worker
    /// (reads have no effects, so a retry is always safe).
    pub(crate) async fn read(
        &self,
        request: Request,
        interrupter: &Interrupter,
    ) -> Result<Reply, ShardError> {
        let mut last = None;
        for _ in 0..READ_ATTEMPTS {
            let worker = self.pick_reader().await?;
            let mut link = match worker.take_link().await {
                Ok(link) => link,
                Err(e) => {
                    worker.mark_unhealthy();
                    last = Some(e);
                    continue;
                }
            };
            worker.outstanding.fetch_add(1, Ordering::Relaxed);
            worker.reads.fetch_add(1, Ordering::Relaxed);
            link.arm(interrupter);
            let result = link.call(&request).await;
            interrupter.disarm();
            worker.outstanding.fetch_sub(1, Ordering::Relaxed);
            match result {
                Ok(reply) => {
                    worker.return_link(link);
                    return Ok(reply);
                }
                Err(e) => {
                    worker.mark_unhealthy();
                    last = Some(e);
                }
            }
        }
        Err(ShardError::new(
            "57P03",
            format!(
                "no worker of partition {} could serve the read: {}",
                self.launch.partition,
                last.map(|e| e.to_string()).unwrap_or_default()
            ),
        ))
    }

    /// A streamed read: the rows flow from the worker through `forward` in a task of
    /// their own. One a worker's death interrupts before any row came is retried on
    /// another worker, as a read is; after a row, the stream ends with the error.
    pub(crate) async fn stream(
        self: &Arc<Self>,
        sql: String,
        params: Vec<Value>,
        interrupter: Arc<Interrupter>,
        mut forward: StreamForward,
        usage: Arc<Usage>,
    ) -> Result<(), ShardError> {
        let (mut worker, mut link) = self.reader_link().await?;
        let group = Arc::clone(self);
        tokio::spawn(async move {
            let request = Request::Stream { sql, params };
            let (mut rows, mut busy) = (0, 0);
            let mut columns_sent = false;
            let mut attempts = 1;
            loop {
                link.arm(&interrupter);
                let mut result = link.send(&request).await;
                while result.is_ok() {
                    match link.receive().await {
                        Ok(reply) => {
                            busy += reply.busy_nanos;
                            match &reply.body {
                                Response::Rows(r) => rows += r.len() as u64,
                                // A retry's columns: the consumer has them.
                                Response::Columns(_) if columns_sent => continue,
                                Response::Columns(_) => columns_sent = true,
                                _ => {}
                            }
                            if !forward.send(reply.body).await {
                                break;
                            }
                        }
                        Err(e) => result = Err(e),
                    }
                }
                interrupter.disarm();
                let Err(e) = result else {
                    worker.return_link(link);
                    break;
                };
                worker.mark_unhealthy();
                if rows == 0
                    && attempts < READ_ATTEMPTS
                    && let Ok(next) = group.reader_link().await
                {
                    attempts += 1;
                    (worker, link) = next;
                    continue;
                }
                let lost =
                    ShardError::new("57P01", format!("the worker serving the query failed: {e}"));
                forward.send(Response::Error(lost)).await;
                break;
            }
            usage.add(busy, rows, 0);
        });
        Ok(())
    }

    /// A link to a worker that takes reads, from another worker when one cannot be
    /// reached.
    async fn reader_link(&self) -> Result<(Arc<WorkerHandle>, Link), ShardError> {
        let mut last = None;
        for _ in 0..READ_ATTEMPTS {
            let worker = self.pick_reader().await?;
            match worker.take_link().await {
                Ok(link) => {
                    worker.reads.fetch_add(1, Ordering::Relaxed);
                    return Ok((worker, link));
                }
                Err(e) => {
                    worker.mark_unhealthy();
                    last = Some(e);
                }
            }
        }
        Err(ShardError::new(
            "57P03",
            format!(
                "cannot reach a worker: {}",
                last.map(|e| e.to_string()).unwrap_or_default()
            ),
        ))
    }
}

/// Tries per read before it fails.
const READ_ATTEMPTS: usize = 3;
