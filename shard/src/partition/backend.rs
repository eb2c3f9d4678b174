//! What serves a partition: connections in this process (`Local`), or worker processes
//! (`Remote`); opening it either way, and what differs between the two.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use litescale_config::Synchronous;
use rusqlite::Connection;
use tokio::sync::Mutex as AsyncMutex;

use crate::engine::options::ConnectionOptions;
use crate::error::ShardError;
use crate::messages::Reply;
use crate::partition::peer_link::Forward;
use crate::partition::{Durability, Partition};
use crate::storage::{
    ELECTION_WAIT, Follower, Following, OnLog, Progress, WalSync, Writer, group_commit,
};
use crate::usage::Usage;
use crate::workers::WorkerGroup;

pub(super) enum Backend {
    /// The embedded default: the primary and its readers are connections in this process.
    /// Boxed: its connection options are most of a partition's size.
    Local(Box<Local>),
    /// Worker processes, reached over TCP.
    Remote(Arc<WorkerGroup>),
}

pub(super) struct Local {
    pub(super) options: ConnectionOptions,
    /// The only connection that writes. Holding its lock is holding the right to write.
    pub(super) writer: Arc<AsyncMutex<Writer>>,
    /// Idle read-only connections; more are opened when all are busy.
    pub(super) readers: Mutex<Vec<Connection>>,
    /// On replicated storage, set once this process lost the partition to another (or,
    /// on a replica, fell behind its log's snapshots).
    pub(super) lost: Arc<AtomicBool>,
    /// On a replica (or a peer of the primary): the file following its log, until the
    /// partition closes (or this process takes it over).
    pub(super) follower: Mutex<Option<Follower>>,
    /// How far the follower got.
    pub(super) progress: Option<Progress>,
    /// On a peer of the partition's primary: where its writes go.
    pub(super) forward: Option<Forward>,
}

impl Local {
    /// Refuses a read once this process lost the partition: its file may hold a commit
    /// the log does not (see `storage/replicated`).
    pub(super) fn serving(&self) -> Result<(), ShardError> {
        if self.lost.load(Ordering::Relaxed) {
            return Err(ShardError::new(
                "57P03",
                "this litescale process no longer serves the partition: another took it over; connect to that one",
            ));
        }
        Ok(())
    }
}

impl Partition {
    /// Opens the partition in this process, as its primary; on a replicated log
    /// (`logged`: the file already caught up with it) as the log's primary, whose commits
    /// are durable once the log holds them, not by an fsync here.
    pub(crate) fn open(
        path: &Path,
        options: ConnectionOptions,
        logged: Option<OnLog>,
    ) -> Result<Partition, ShardError> {
        let usage = Arc::clone(&options.usage);
        let (writer, durability, lost) = match logged {
            None => (
                Writer::open(path, &options, ELECTION_WAIT, false)?,
                group_commit(options.storage.synchronous)
                    .then(|| Durability::Fsync(WalSync::new(path))),
                Arc::default(),
            ),
            Some(on_log) => {
                let (lost, acks) = (on_log.lost(), on_log.acks());
                (
                    Writer::open_logged(path, &options, on_log)?,
                    Some(Durability::Log(acks)),
                    lost,
                )
            }
        };
        let local = Local {
            options,
            writer: Arc::new(AsyncMutex::new(writer)),
            readers: Mutex::new(Vec::new()),
            lost,
            follower: Mutex::new(None),
            progress: None,
            forward: None,
        };
        Ok(Partition::new(
            path,
            usage,
            durability,
            Backend::Local(Box::new(local)),
        ))
    }

    /// Opens the partition in this process as a replica of its log (`following`: the file
    /// caught up and following it): its readers serve, every write is refused (25006).
    pub(crate) fn open_replica(
        path: &Path,
        options: ConnectionOptions,
        following: Following,
    ) -> Result<Partition, ShardError> {
        Partition::following(path, options, following, None)
    }

    /// A partition whose file follows its log: a replica's, or a peer's (`forward`).
    pub(super) fn following(
        path: &Path,
        options: ConnectionOptions,
        following: Following,
        forward: Option<Forward>,
    ) -> Result<Partition, ShardError> {
        let usage = Arc::clone(&options.usage);
        let local = Local {
            writer: Arc::new(AsyncMutex::new(Writer::replica(path, &options)?)),
            options,
            readers: Mutex::new(Vec::new()),
            lost: following.lost,
            progress: Some(following.follower.progress().clone()),
            follower: Mutex::new(Some(following.follower)),
            forward,
        };
        Ok(Partition::new(
            path,
            usage,
            None,
            Backend::Local(Box::new(local)),
        ))
    }

    /// On replicated storage, the log position of the last commit this partition's file
    /// holds: on the primary, the last the log acknowledged; on a replica, the last it
    /// applied. `None` on local storage.
    pub fn log_position(&self) -> Option<u64> {
        if let Some(Durability::Log(acks)) = self.durability.get() {
            return Some(acks.position());
        }
        match &self.backend {
            Backend::Local(local) => local.progress.as_ref().map(Progress::position),
            Backend::Remote(_) => None,
        }
    }

    /// Waits, on a replica, until this partition's file holds its log through `position`,
    /// up to `timeout` (57014 past it); a primary holds what it acknowledged.
    pub async fn reach_log_position(
        &self,
        position: u64,
        timeout: std::time::Duration,
    ) -> Result<(), ShardError> {
        if self.durability.get().is_some() {
            return Ok(());
        }
        match &self.backend {
            Backend::Local(local) => match &local.progress {
                Some(progress) => progress.reach(position, timeout).await,
                None => Ok(()),
            },
            Backend::Remote(_) => Ok(()),
        }
    }

    /// A partition served by worker processes.
    pub(crate) fn remote(
        path: &Path,
        usage: Arc<Usage>,
        group: Arc<WorkerGroup>,
        synchronous: Synchronous,
    ) -> Partition {
        // The workers share this host's page cache: an fsync here covers their commits.
        let durability = group_commit(synchronous).then(|| Durability::Fsync(WalSync::new(path)));
        Partition::new(path, usage, durability, Backend::Remote(group))
    }

    fn new(
        path: &Path,
        usage: Arc<Usage>,
        durability: Option<Durability>,
        backend: Backend,
    ) -> Self {
        Partition {
            path: path.to_owned(),
            usage,
            durability: durability
                .map(std::sync::OnceLock::from)
                .unwrap_or_default(),
            pending: Mutex::default(),
            next_pending: Default::default(),
            commits: Default::default(),
            backend,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What one materialised result may hold here; worker processes hold theirs to their
    /// own configuration.
    pub(super) fn max_result_bytes(&self) -> usize {
        match &self.backend {
            Backend::Local(local) => local.options.max_result_bytes,
            Backend::Remote(_) => usize::MAX,
        }
    }

    /// The worker processes serving this partition, if it has any.
    pub fn workers(&self) -> Option<&Arc<WorkerGroup>> {
        match &self.backend {
            Backend::Local(_) => None,
            Backend::Remote(group) => Some(group),
        }
    }

    pub(super) fn local(&self) -> Result<&Local, ShardError> {
        match &self.backend {
            Backend::Local(local) => Ok(local),
            Backend::Remote(_) => Err(ShardError::new(
                "XX000",
                "start-up checks run on a partition opened in process",
            )),
        }
    }

    pub(super) fn record(&self, metered: bool, reply: &Reply) {
        if metered {
            self.usage.record(reply.busy_nanos, &reply.body);
        }
    }
}

impl Drop for Partition {
    /// Readers close first, so that the writer is the file's last connection: SQLite
    /// checkpoints the WAL into the database file when its last connection closes, which a
    /// read-only connection cannot do.
    fn drop(&mut self) {
        if let Backend::Local(local) = &self.backend {
            local
                .readers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
        }
    }
}
