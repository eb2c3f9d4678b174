//! The server: what every connection shares (configuration and its reload, storage, the
//! registries of sessions, the connection slots), and Postgres' type rules handed to the
//! storage.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use dashmap::DashMap;
use litescale_config::{Config, DEFAULT_DATABASE};
use litescale_shard::{ShardError, Storage, TypeCatalog};
use pgwire::api::RandomPidSecretKeyGenerator;
use pgwire::tokio::TlsAcceptor;

use crate::server::auth::scram_with_channel_binding;
use crate::server::slots::Startups;
use crate::server::tls::tls_acceptor;
use crate::session::advisory_locks::AdvisoryLocks;
use crate::session::backends::Backends;
use crate::session::column_cache::ColumnCache;
use crate::session::coordinator::locks::WaitGraph;
use crate::session::interrupts::cancel::CancelRegistry;
use crate::session::interrupts::control::ConnectionControl;
use crate::session::notifications::Notifications;
use crate::session::settings::SERVER_VERSION_NUM;
use crate::values::check::check_stored;

/// Everything connections share: configuration, storage, the cancel registry.
pub struct Server {
    /// The configuration in force; RELOAD and SIGHUP replace it.
    config: std::sync::RwLock<Arc<Config>>,
    /// The file the configuration came from, for RELOAD.
    config_file: std::sync::Mutex<Option<std::path::PathBuf>>,
    /// Sessions by backend pid: SHOW CLIENTS, pg_terminate_backend, KILL.
    pub(crate) backends: Arc<Backends>,
    /// PAUSE holds new queries until RESUME.
    pub(crate) paused: tokio::sync::watch::Sender<bool>,
    /// Applies a new `log_level` (the binary owns the logger).
    log_level_hook: std::sync::Mutex<Option<LogLevelHook>>,
    pub(crate) storage: Arc<Storage>,
    pub(crate) map: Arc<litescale_config::PartitionMap>,
    pub(crate) cancels: Arc<CancelRegistry>,
    pub(crate) pids: RandomPidSecretKeyGenerator,
    pub(crate) wait_graph: Arc<WaitGraph>,
    /// Every session's advisory locks.
    pub(crate) advisory_locks: Arc<AdvisoryLocks>,
    /// LISTEN / NOTIFY between every database's sessions.
    pub(crate) notifications: Arc<Notifications>,
    /// Tables' columns for plans that need them, shared by every session.
    pub(crate) column_cache: Arc<ColumnCache>,
    /// Authenticated client connections open now (`server/slots.rs`).
    pub(crate) connections: Arc<AtomicUsize>,
    /// Connections not authenticated yet (`server/slots.rs`).
    pub(crate) startups: Startups,
    /// Each open connection's off-switch, by the client's address.
    pub(crate) controls: DashMap<SocketAddr, Arc<ConnectionControl>>,
    /// Accepts TLS from clients that ask for it, when `[tls]` is configured.
    pub(crate) tls: Option<TlsAcceptor>,
    /// SCRAM bound to the TLS certificate, offered as SCRAM-SHA-256-PLUS over TLS.
    pub(crate) scram_over_tls: Option<pgwire::api::auth::sasl::scram::ScramServerAuth>,
}

/// Sets the log filter; an error says why the filter is not valid.
pub type LogLevelHook = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

impl Server {
    /// Opens the storage directory, creating it and the default database on first start.
    pub fn open(config: Config) -> Result<Arc<Server>, ShardError> {
        let map = config
            .partition_map()
            .map_err(|e| ShardError::new("F0000", e.to_string()))?;
        let storage = Storage::open(&config, &[DEFAULT_DATABASE], type_catalog())?;
        let column_cache = Arc::new(ColumnCache::new(storage.schema_changes()));
        Ok(Arc::new(Server {
            tls: config.tls.as_ref().map(tls_acceptor).transpose()?,
            scram_over_tls: config
                .tls
                .as_ref()
                .and_then(|tls| std::fs::read(&tls.cert).ok())
                .and_then(|pem| scram_with_channel_binding(&pem)),
            config: std::sync::RwLock::new(Arc::new(config)),
            config_file: std::sync::Mutex::new(None),
            backends: Arc::default(),
            paused: tokio::sync::watch::Sender::new(false),
            log_level_hook: std::sync::Mutex::new(None),
            storage: Arc::new(storage),
            map: Arc::new(map),
            cancels: Arc::new(CancelRegistry::default()),
            pids: RandomPidSecretKeyGenerator::default(),
            wait_graph: Arc::default(),
            advisory_locks: Arc::default(),
            notifications: Arc::default(),
            column_cache,
            connections: Arc::default(),
            startups: Default::default(),
            controls: DashMap::new(),
        }))
    }

    /// Waits while the admin console has paused queries.
    pub(crate) async fn wait_unless_paused(&self) {
        // Every query passes here: only a paused server pays for a subscription.
        if !*self.paused.borrow() {
            return;
        }
        let mut paused = self.paused.subscribe();
        // An error means the sender is gone, which it never is while the server lives.
        let _ = paused.wait_for(|p| !p).await;
    }

    /// The configuration in force now.
    pub fn config(&self) -> Arc<Config> {
        Arc::clone(&self.config.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// How RELOAD changes the log level.
    pub fn set_log_level_hook(&self, hook: LogLevelHook) {
        *self
            .log_level_hook
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(hook);
    }

    /// Remembers the file the configuration came from, so RELOAD (or SIGHUP) can read it
    /// again.
    pub fn set_config_file(&self, path: std::path::PathBuf) {
        *self.config_file.lock().unwrap_or_else(|e| e.into_inner()) = Some(path);
    }

    /// Reads the configuration file again. Users, authentication rules and limits take
    /// effect for new connections at once; what needs a restart (addresses, storage,
    /// partitions, TLS) is named in the answer. An invalid file changes nothing.
    pub fn reload(&self) -> Result<Vec<String>, String> {
        let path = self
            .config_file
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or("litescale was started without a config file; there is nothing to reload")?;
        let mut new = Config::from_file(&path).map_err(|e| e.to_string())?;
        let old = self.config();
        // What the command line or environment set stays as it is.
        new.listen = old.listen;
        new.data_dir = old.data_dir.clone();
        new.metrics_listen = old.metrics_listen;
        let mut restart = Vec::new();
        if new.partitions != old.partitions || new.tables != old.tables {
            restart.push("partitions and tables".to_owned());
        }
        if new.tls != old.tls {
            restart.push("tls".to_owned());
        }
        if new.storage != old.storage {
            restart.push("storage".to_owned());
        }
        let replicas_only = litescale_config::WorkersConfig {
            replicas: old.workers.replicas,
            ..new.workers.clone()
        };
        if replicas_only != old.workers {
            restart.push("workers (except replicas)".to_owned());
        }
        if new.limits.statement_cache != old.limits.statement_cache {
            restart.push("limits.statement_cache".to_owned());
        }
        if new.log_level != old.log_level
            && let Some(hook) = self
                .log_level_hook
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
        {
            hook(&new.log_level).map_err(|e| format!("log_level \"{}\": {e}", new.log_level))?;
        }
        if new.workers.replicas != old.workers.replicas {
            self.storage.set_replicas(new.workers.replicas);
        }
        tracing::info!(file = %path.display(), needs_restart = ?restart, "configuration reloaded");
        *self.config.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(new);
        Ok(restart)
    }
}

/// Postgres' type rules, handed to the storage for its pg_catalog views and for the check
/// of each value written to a typed column.
pub fn type_catalog() -> TypeCatalog {
    use litescale_router::types;
    TypeCatalog {
        of_declared: types::catalog_of_declared,
        format: types::format_type,
        all: types::catalog_types,
        check_stored,
        server_version: (litescale_router::SERVER_VERSION, SERVER_VERSION_NUM),
    }
}
