//! The storage directory: `<root>/<database>/<partition>.db`. It is the only state
//! litescale keeps; a worker can be replaced and reattach to it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use litescale_config::{Config, StorageEngine, WorkerMode, WorkersConfig};

use crate::directory::{partition_path, valid_name};
use crate::engine::options::ConnectionOptions;
use crate::engine::sql::catalog::TypeCatalog;
use crate::error::ShardError;
use crate::partition::{Partition, take_over_when_free};
use crate::storage::{
    Attached, LogEngine, Recovered, TxLog, attach, attach_or_follow, delete_database, follow,
    transaction_log,
};
use crate::usage::Usage;
use crate::workers::{Launch, WorkerGroup};

/// An open database: its partitions, in order, and the log of its cross-partition
/// transactions.
#[derive(Clone)]
pub struct Database {
    pub partitions: Vec<Arc<Partition>>,
    pub txlog: Arc<TxLog>,
    /// What the database's statements have cost since it was opened.
    pub usage: Arc<Usage>,
}

impl Database {
    /// Stops the database's worker processes, if it has any.
    fn close_workers(&self) {
        for p in &self.partitions {
            if let Some(group) = p.workers() {
                group.close();
            }
        }
    }
}

pub struct Storage {
    root: PathBuf,
    options: ConnectionOptions,
    /// Partitions per database.
    partitions: usize,
    /// Sharded tables and their key columns, checked against each database at open.
    shard_keys: Vec<(String, String)>,
    open: Mutex<HashMap<String, Database>>,
    workers: Mutex<WorkersConfig>,
    /// Read by worker processes too.
    config_file: Option<PathBuf>,
    /// `[storage] engine = "jetstream"`: the engine holding each partition's log.
    engine: Option<Arc<LogEngine>>,
    /// `[storage] peer_listen`, bound: where peers' writes come in, until served
    /// (`peers.rs`).
    peer_listener: Mutex<Option<std::net::TcpListener>>,
    /// What [`Storage::schema_changes`] answers without an engine.
    local_schema_changes: Arc<std::sync::atomic::AtomicU64>,
}

impl Storage {
    /// Opens (creating if needed) the storage directory and the given databases.
    pub fn open(
        config: &Config,
        create: &[&str],
        types: TypeCatalog,
    ) -> Result<Storage, ShardError> {
        std::fs::create_dir_all(&config.data_dir)?;
        let map = config
            .partition_map()
            .map_err(|e| ShardError::new("F0000", e.to_string()))?;
        let peer_listener = match &config.storage.peer_listen {
            Some(address) => Some(std::net::TcpListener::bind(address).map_err(|e| {
                ShardError::new(
                    "08001",
                    format!("cannot listen for peers at {address} ([storage] peer_listen): {e}"),
                )
            })?),
            None => None,
        };
        let peer = peer_listener
            .as_ref()
            .map(std::net::TcpListener::local_addr)
            .transpose()?;
        let storage = Storage {
            root: config.data_dir.clone(),
            options: ConnectionOptions {
                storage: config.storage.clone(),
                statement_cache: config.limits.statement_cache,
                database: String::new(),
                types,
                usage: Arc::default(),
                root: config.data_dir.clone(),
                max_result_bytes: config.limits.max_result_bytes(),
            },
            partitions: map.count(),
            shard_keys: map
                .shard_keys()
                .map(|(t, k)| (t.to_owned(), k.to_owned()))
                .collect(),
            open: Mutex::new(HashMap::new()),
            workers: Mutex::new(config.workers.clone()),
            config_file: config.file.clone(),
            engine: match config.storage.engine {
                StorageEngine::Local => None,
                StorageEngine::Jetstream => Some(LogEngine::connect(&config.storage, peer)?),
            },
            peer_listener: Mutex::new(peer_listener),
            local_schema_changes: Arc::default(),
        };
        for name in create {
            if !valid_name(name) {
                return Err(ShardError::new(
                    "42602",
                    format!("invalid database name \"{name}\""),
                ));
            }
            std::fs::create_dir_all(storage.root.join(name))?;
            storage.open_database(name, None)?;
        }
        Ok(storage)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Bumped at each schema change made outside this process's sessions (on replicated
    /// storage: applied from the log by a replica's or peer's follower, or a peer's DDL
    /// run here): a cache of column types is stale once it moves. Never moves on local
    /// storage, where every change is a session's here.
    pub fn schema_changes(&self) -> Arc<std::sync::atomic::AtomicU64> {
        match &self.engine {
            Some(engine) => Arc::clone(engine.schema_changes()),
            None => Arc::clone(&self.local_schema_changes),
        }
    }

    /// What peer links must present (on replicated storage).
    pub(crate) fn peer_secret(&self) -> Result<String, ShardError> {
        match &self.engine {
            Some(engine) => engine.peer_secret(),
            None => Err(ShardError::new("55000", "no storage engine: no peers")),
        }
    }

    /// `[storage] peer_listen`'s socket, once (the peer server takes it).
    pub(crate) fn take_peer_listener(&self) -> Option<std::net::TcpListener> {
        self.peer_listener
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// An existing database: `<database>/<i>.db` and `<database>/txlog/`. The first open
    /// finishes or undoes the cross-partition transactions a crash left in the log.
    pub fn database(&self, name: &str) -> Result<Database, ShardError> {
        let commit_timeout = self.options.storage.commit_timeout_ms;
        self.open_database(name, Some(Duration::from_millis(commit_timeout)))
    }

    /// As [`Storage::database`]; on replicated storage, waiting up to `lease_wait` for
    /// partitions another process serves (`None`: a standby at start, as long as it takes).
    fn open_database(
        &self,
        name: &str,
        lease_wait: Option<Duration>,
    ) -> Result<Database, ShardError> {
        let missing = || ShardError::new("3D000", format!("database \"{name}\" does not exist"));
        if !valid_name(name) {
            return Err(missing());
        }
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = open.get(name) {
            return Ok(p.clone());
        }
        let dir = self.root.join(name);
        if !dir.is_dir() {
            // On replicated storage a database may be new to this host: its files are
            // made from its log.
            match &self.engine {
                Some(engine) if engine.has_database(name)? => std::fs::create_dir_all(&dir)?,
                _ => return Err(missing()),
            }
        }
        let usage = Arc::new(Usage::default());
        let paths: Vec<PathBuf> = (0..self.partitions)
            .map(|i| partition_path(&dir, i))
            .collect();
        let durable = self.options.storage.synchronous != litescale_config::Synchronous::Off;
        let txlog = match &self.engine {
            Some(engine) => transaction_log(engine, name)?,
            None => TxLog::in_directory(dir.join("txlog"), durable)?,
        };
        let workers = self.workers_config();
        let partitions = if workers.mode == WorkerMode::External {
            // The primaries run elsewhere and hold the files: each finishes its part of
            // the decided transactions when it becomes primary (storage/txlog.rs).
            txlog.drop_undecided()?;
            self.hand_to_workers(name, &paths, &usage, &workers)?
        } else {
            let options = ConnectionOptions {
                database: name.to_owned(),
                usage: Arc::clone(&usage),
                ..self.options.clone()
            };
            let partitions = self.open_in_process(name, &paths, &options, lease_wait)?;
            let recovered = if self.options.storage.replica {
                // A replica's logs are written, and their transactions finished, by the
                // primary.
                Vec::new()
            } else if partitions.iter().any(|p| p.is_peer()) {
                // Another process is primary of some: it coordinates too, and a
                // transaction undecided may be its, in flight. This one settles only
                // those with a part on the partitions it holds (nobody else held them:
                // such a part died with its primary).
                for (i, p) in partitions.iter().enumerate().filter(|(_, p)| !p.is_peer()) {
                    txlog.settle_part(i, &**p)?.report(name, i);
                }
                Vec::new()
            } else {
                txlog.recover(&partitions)?
            };
            for done in recovered {
                match done {
                    Recovered::Finished { txid, replayed } => tracing::warn!(
                        database = %name, txid, ?replayed,
                        "finished a committed cross-partition transaction a crash interrupted"
                    ),
                    Recovered::Undone { txid } => tracing::warn!(
                        database = %name, txid,
                        "undid a cross-partition transaction a crash interrupted before its commit"
                    ),
                }
            }
            report_schema_drift(name, &partitions);
            check_shard_keys(name, &partitions[0], &self.shard_keys)?;
            if workers.mode == WorkerMode::InProcess {
                partitions
            } else {
                // Closed first: their election locks go to the workers' primaries.
                drop(partitions);
                self.hand_to_workers(name, &paths, &usage, &workers)?
            }
        };
        let database = Database {
            partitions,
            txlog: Arc::new(txlog),
            usage,
        };
        for (i, p) in database.partitions.iter().enumerate() {
            take_over_when_free(p, (name, i), Arc::clone(&database.txlog));
        }
        open.insert(name.to_owned(), database.clone());
        Ok(database)
    }

    /// The partitions, served in this process: on replicated storage attached to their
    /// logs (or, on a replica, following them) together, since each may wait for its
    /// lease (a takeover waits out the last holder's TTL) and catch up.
    fn open_in_process(
        &self,
        name: &str,
        paths: &[PathBuf],
        options: &ConnectionOptions,
        lease_wait: Option<Duration>,
    ) -> Result<Vec<Arc<Partition>>, ShardError> {
        let Some(engine) = &self.engine else {
            return paths
                .iter()
                .map(|path| Partition::open(path, options.clone(), None).map(Arc::new))
                .collect();
        };
        let replica = self.options.storage.replica;
        let peers = self.options.storage.peer_listen.is_some();
        std::thread::scope(|scope| {
            let opening: Vec<_> = paths
                .iter()
                .enumerate()
                .map(|(i, path)| {
                    let options = options.clone();
                    scope.spawn(move || {
                        if replica {
                            Partition::open_replica(path, options, follow(engine, name, i, path)?)
                        } else if peers {
                            match attach_or_follow(engine, name, i, path)? {
                                Attached::Here(on_log) => {
                                    Partition::open(path, options, Some(on_log))
                                }
                                Attached::Elsewhere(following, takeover) => Partition::open_peer(
                                    path,
                                    options,
                                    (name, i),
                                    following,
                                    takeover,
                                ),
                            }
                        } else {
                            let on_log = attach(engine, name, i, path, lease_wait)?;
                            Partition::open(path, options, Some(on_log))
                        }
                    })
                })
                .collect();
            opening
                .into_iter()
                .map(|o| {
                    o.join()
                        .expect("opening a partition panicked")
                        .map(Arc::new)
                })
                .collect()
        })
    }

    /// Partitions served by worker processes: started here, or started elsewhere.
    fn hand_to_workers(
        &self,
        name: &str,
        paths: &[PathBuf],
        usage: &Arc<Usage>,
        workers: &WorkersConfig,
    ) -> Result<Vec<Arc<Partition>>, ShardError> {
        let external = |partition: usize| -> Vec<String> {
            workers
                .external
                .iter()
                .filter(|w| w.database == name && w.partition == partition)
                .map(|w| w.address.clone())
                .collect()
        };
        if workers.mode == WorkerMode::External
            && let Some(missing) = (0..paths.len()).find(|&p| external(p).is_empty())
        {
            return Err(ShardError::new(
                "57P03",
                format!(
                    "database \"{name}\" partition {missing} has no [[workers.external]] worker"
                ),
            ));
        }
        let program = match &workers.program {
            Some(p) => p.clone(),
            None => std::env::current_exe()?,
        };
        Ok(paths
            .iter()
            .enumerate()
            .map(|(i, path)| {
                let group = WorkerGroup::new(Launch {
                    program: program.clone(),
                    config_file: self.config_file.clone(),
                    data_dir: self.root.clone(),
                    database: name.to_owned(),
                    partition: i,
                    workers: workers.clone(),
                    external: external(i),
                });
                if workers.idle_stop_ms == 0 && workers.mode == WorkerMode::Processes {
                    let starting = Arc::clone(&group);
                    tokio::spawn(async move {
                        if let Err(e) = starting.ensure_started().await {
                            tracing::error!(error = %e, "could not start the partition's workers");
                        }
                    });
                }
                Arc::new(Partition::remote(
                    path,
                    Arc::clone(usage),
                    group,
                    self.options.storage.synchronous,
                ))
            })
            .collect())
    }

    fn workers_config(&self) -> WorkersConfig {
        self.workers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Keeps `count` replicas per partition from now on (a reload changed it).
    pub fn set_replicas(&self, count: usize) {
        self.workers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replicas = count;
        for group in self.worker_groups() {
            group.set_replicas(count);
        }
    }

    /// The worker processes of every open database.
    pub fn worker_groups(&self) -> Vec<Arc<WorkerGroup>> {
        self.open_databases()
            .into_iter()
            .flat_map(|(_, db)| db.partitions)
            .filter_map(|p| p.workers().cloned())
            .collect()
    }

    /// `CREATE DATABASE`: a new directory with its partitions. `Ok(false)` when it exists
    /// and `if_not_exists` is set.
    pub fn create_database(&self, name: &str, if_not_exists: bool) -> Result<bool, ShardError> {
        self.writable("CREATE DATABASE")?;
        if !valid_name(name) {
            return Err(ShardError::new(
                "42602",
                format!("invalid database name \"{name}\": use up to 63 letters, digits, _ and -"),
            ));
        }
        let logged_elsewhere = match &self.engine {
            Some(engine) => engine.has_database(name)?,
            None => false,
        };
        let created = match logged_elsewhere {
            true => Err(std::io::ErrorKind::AlreadyExists.into()),
            false => std::fs::create_dir(self.root.join(name)),
        };
        match created {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && if_not_exists => {
                return Ok(false);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(ShardError::new(
                    "42P04",
                    format!("database \"{name}\" already exists"),
                ));
            }
            Err(e) => return Err(e.into()),
        }
        self.database(name)?;
        Ok(true)
    }

    /// `DROP DATABASE`: refused while any session uses it; then its files go. `Ok(false)`
    /// when it does not exist and `if_exists` is set.
    pub fn drop_database(&self, name: &str, if_exists: bool) -> Result<bool, ShardError> {
        self.writable("DROP DATABASE")?;
        let dir = self.root.join(name);
        if !valid_name(name) || !dir.is_dir() {
            return if if_exists {
                Ok(false)
            } else {
                Err(ShardError::new(
                    "3D000",
                    format!("database \"{name}\" does not exist"),
                ))
            };
        }
        // Held throughout, so nobody opens the database while it goes.
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(db) = open.get(name)
            && db.partitions.iter().any(|p| Arc::strong_count(p) > 1)
        {
            return Err(ShardError::new(
                "55006",
                format!("database \"{name}\" is being accessed by other users"),
            ));
        }
        if let Some(db) = open.remove(name) {
            db.close_workers();
        }
        if let Some(engine) = &self.engine {
            delete_database(engine, name, self.partitions);
        }
        std::fs::remove_dir_all(&dir)?;
        Ok(true)
    }

    /// Refuses `command` on a read replica ([storage] replica), as a hot standby does.
    fn writable(&self, command: &str) -> Result<(), ShardError> {
        if self.options.storage.replica {
            return Err(ShardError::new(
                "25006",
                format!("cannot execute {command} in a read-only replica"),
            ));
        }
        Ok(())
    }

    /// The databases open now, by name.
    pub fn open_databases(&self) -> Vec<(String, Database)> {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<(String, Database)> =
            open.iter().map(|(n, d)| (n.clone(), d.clone())).collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// Bytes the database's files take on disk (partitions, WAL, transaction log).
    pub fn bytes_stored(&self, name: &str) -> u64 {
        fn size(path: &Path) -> u64 {
            match std::fs::read_dir(path) {
                Ok(entries) => entries
                    .filter_map(Result::ok)
                    .map(|e| {
                        let p = e.path();
                        if p.is_dir() {
                            size(&p)
                        } else {
                            e.metadata().map_or(0, |m| m.len())
                        }
                    })
                    .sum(),
                Err(_) => 0,
            }
        }
        if valid_name(name) {
            size(&self.root.join(name))
        } else {
            0
        }
    }

    /// Closes every open database. SQLite checkpoints the WAL when the last connection of
    /// a file closes; connections still used by sessions close when those end.
    pub fn close(&self) {
        for (_, db) in self.open.lock().unwrap_or_else(|e| e.into_inner()).drain() {
            db.close_workers();
        }
    }
}

/// A table the config shards by a column it does not have could not be routed: refuse
/// the database (at start for the databases opened then) rather than misplace rows.
fn check_shard_keys(
    database: &str,
    partition: &Partition,
    shard_keys: &[(String, String)],
) -> Result<(), ShardError> {
    let tables: Vec<String> = shard_keys.iter().map(|(t, _)| t.clone()).collect();
    for (table, columns) in partition.table_columns_now(&tables)? {
        let key = &shard_keys
            .iter()
            .find(|(t, _)| *t == table)
            .expect("asked for")
            .1;
        // SQLite column names are case-insensitive, as unquoted Postgres names fold.
        if !columns.iter().any(|c| c.name.eq_ignore_ascii_case(key)) {
            return Err(ShardError::new(
                "F0000",
                format!(
                    "config shards table \"{table}\" by column \"{key}\", \
                     but database \"{database}\" has no such column in \"{table}\""
                ),
            ));
        }
    }
    Ok(())
}

/// DDL runs on every partition; one that missed a change (a crash between partitions, a
/// failure on one) is reported here, when the database is opened.
/// Returns the partitions that differ from partition 0, with the objects that differ.
fn report_schema_drift(database: &str, partitions: &[Arc<Partition>]) -> Vec<(usize, Vec<String>)> {
    let mut drifted = Vec::new();
    let Some(first) = partitions.first().and_then(|p| p.schema().ok()) else {
        return drifted;
    };
    for (i, p) in partitions.iter().enumerate().skip(1) {
        match p.schema() {
            Ok(schema) if schema == first => {}
            Ok(schema) => {
                let differing: Vec<String> = first
                    .iter()
                    .chain(&schema)
                    .filter(|o| !first.contains(o) || !schema.contains(o))
                    .map(|(_, name, _)| name.clone())
                    .collect();
                tracing::error!(
                    %database,
                    partition = i,
                    objects = ?differing,
                    "partition schema differs from partition 0: a schema change did not reach every partition"
                );
                drifted.push((i, differing));
            }
            Err(e) => {
                tracing::error!(%database, partition = i, error = %e, "cannot read partition schema")
            }
        }
    }
    drifted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types() -> TypeCatalog {
        TypeCatalog {
            of_declared: |_| (25, -1),
            format: |_, _| None,
            all: || vec![(25, "text", -1, 'S')],
            check_stored: |_, _| Ok(()),
            server_version: ("15.18", "150018"),
        }
    }

    #[test]
    fn a_partition_that_missed_a_schema_change_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let config: Config = toml::from_str(&format!(
            "data_dir = {:?}\n[partitions]\ncount = 2\n",
            dir.path()
        ))
        .unwrap();
        let storage = Storage::open(&config, &["db"], types()).unwrap();
        let partitions = storage.database("db").unwrap().partitions;
        assert!(report_schema_drift("db", &partitions).is_empty());
        drop(partitions);
        storage.close();
        let only_first = rusqlite::Connection::open(dir.path().join("db").join("0.db")).unwrap();
        only_first.execute_batch("CREATE TABLE t (a INT)").unwrap();
        let partitions = Storage::open(&config, &[], types())
            .unwrap()
            .database("db")
            .unwrap()
            .partitions;
        assert_eq!(
            report_schema_drift("db", &partitions),
            [(1, vec!["t".to_owned()])]
        );
    }

    #[test]
    fn partition_files_are_read_through_a_memory_map_of_the_configured_size() {
        let dir = tempfile::tempdir().unwrap();
        let config: Config = toml::from_str(&format!(
            "data_dir = {:?}\n[storage]\nmmap_mb = 3\n",
            dir.path()
        ))
        .unwrap();
        let storage = Storage::open(&config, &["db"], types()).unwrap();
        let partition = &storage.database("db").unwrap().partitions[0];
        let mmap_size: i64 = partition
            .with_reader_now(|c| {
                // The guard refuses PRAGMAs to clients; this test is not one.
                c.authorizer(None::<fn(rusqlite::hooks::AuthContext<'_>) -> _>)?;
                Ok(c.query_row("PRAGMA mmap_size", [], |r| r.get(0))?)
            })
            .unwrap();
        assert_eq!(mmap_size, 3 << 20);
    }

    #[test]
    fn a_table_without_its_shard_key_column_is_refused_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let config: Config = toml::from_str(&format!(
            "data_dir = {:?}\n[partitions]\ncount = 2\n[tables.t]\nkey = \"k\"\n",
            dir.path()
        ))
        .unwrap();
        std::fs::create_dir_all(dir.path().join("db")).unwrap();
        let first = rusqlite::Connection::open(dir.path().join("db").join("0.db")).unwrap();
        first
            .execute_batch("CREATE TABLE t (id INT, K INT)")
            .unwrap();
        assert!(
            Storage::open(&config, &["db"], types()).is_ok(),
            "key column matches case-insensitively"
        );
        first
            .execute_batch("DROP TABLE t; CREATE TABLE t (id INT)")
            .unwrap();
        let err = match Storage::open(&config, &["db"], types()) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("a table without its key column was accepted"),
        };
        assert!(err.contains("\"t\" by column \"k\""), "{err}");
    }
}
