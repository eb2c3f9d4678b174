//! The listener: accepts connections, hands each to the protocol handlers, and shuts
//! down cleanly.

use std::future::Future;
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use dashmap::DashMap;
use litescale_config::{Config, DEFAULT_DATABASE};
use litescale_shard::{ShardError, Storage, TypeCatalog};
use pgwire::api::{PgWireServerHandlers, RandomPidSecretKeyGenerator};
use pgwire::tokio::TlsAcceptor;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::cancel::CancelRegistry;
use crate::error::SqlError;
use crate::lanes::LaneSeat;
use crate::wire::Handlers;

/// Everything connections share: configuration, storage, the cancel registry.
pub struct Server {
    /// The configuration in force; RELOAD and SIGHUP replace it.
    config: std::sync::RwLock<Arc<Config>>,
    /// The file the configuration came from, for RELOAD.
    config_file: std::sync::Mutex<Option<std::path::PathBuf>>,
    /// Sessions by backend pid: SHOW CLIENTS, pg_terminate_backend, KILL.
    pub(crate) backends: Arc<crate::backends::Backends>,
    /// PAUSE holds new queries until RESUME.
    pub(crate) paused: tokio::sync::watch::Sender<bool>,
    /// Applies a new `log_level` (the binary owns the logger).
    log_level_hook: std::sync::Mutex<Option<LogLevelHook>>,
    pub(crate) storage: Arc<Storage>,
    pub(crate) map: Arc<litescale_config::PartitionMap>,
    pub(crate) cancels: Arc<CancelRegistry>,
    pub(crate) pids: RandomPidSecretKeyGenerator,
    pub(crate) wait_graph: Arc<crate::coordinator::WaitGraph>,
    /// Authenticated client connections open now (`slots.rs`).
    pub(crate) connections: Arc<AtomicUsize>,
    /// Connections not authenticated yet (`slots.rs`).
    pub(crate) startups: crate::slots::Startups,
    /// Each open connection's off-switch, by the client's address.
    pub(crate) controls: DashMap<SocketAddr, Arc<ConnectionControl>>,
    /// Accepts TLS from clients that ask for it, when `[tls]` is configured.
    tls: Option<TlsAcceptor>,
    /// SCRAM bound to the TLS certificate, offered as SCRAM-SHA-256-PLUS over TLS.
    pub(crate) scram_over_tls: Option<pgwire::api::auth::sasl::scram::ScramServerAuth>,
}

/// Sets the log filter; an error says why the filter is not valid.
pub type LogLevelHook = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// The rustls acceptor for `[tls]`'s certificate and key.
fn tls_acceptor(tls: &litescale_config::TlsConfig) -> Result<TlsAcceptor, ShardError> {
    use pgwire::tokio::tokio_rustls::rustls;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &str, path: &std::path::Path, e: &dyn std::fmt::Display| {
        ShardError::new("F0000", format!("tls.{what} {}: {e}", path.display()))
    };
    let cert_pem = std::fs::read(&tls.cert).map_err(|e| bad("cert", &tls.cert, &e))?;
    let certs = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad("cert", &tls.cert, &e))?;
    let key_pem = std::fs::read(&tls.key).map_err(|e| bad("key", &tls.key, &e))?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| bad("key", &tls.key, &e))?;
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| bad("cert", &tls.cert, &e))?;
    // PostgreSQL 17's direct TLS connections name the protocol with ALPN.
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Ends a connection from outside its message loop (the idle-in-transaction timeout,
/// pg_terminate_backend, KILL, a newer connection needing its startup place, a client
/// gone while a statement runs), telling the client why with a FATAL error, as Postgres
/// does.
pub(crate) struct ConnectionControl {
    end: Notify,
    reason: std::sync::Mutex<Option<SqlError>>,
    /// Set by `terminate`, never cleared: the connection runs nothing more.
    terminating: AtomicBool,
    /// The client's socket, owned by the connection: only peeked at (`client_gone`).
    socket: RawFd,
}

impl ConnectionControl {
    pub(crate) fn new(socket: RawFd) -> ConnectionControl {
        ConnectionControl {
            end: Notify::new(),
            reason: std::sync::Mutex::default(),
            terminating: AtomicBool::new(false),
            socket,
        }
    }

    /// Whether the client has closed or reset its end. A statement runs on its
    /// connection's thread, so the connection itself cannot notice until it ends; this
    /// peeks at the socket from elsewhere and takes nothing from it.
    pub(crate) fn client_gone(&self) -> bool {
        // SAFETY: borrowed for one recv with MSG_PEEK on a non-blocking socket. Should the
        // connection have closed it meanwhile, the call fails (EBADF: gone, which is true)
        // or peeks at whatever reused the number, taking nothing from it.
        let socket = unsafe { BorrowedFd::borrow_raw(self.socket) };
        let mut byte = [MaybeUninit::<u8>::uninit()];
        match socket2::SockRef::from(&socket).peek(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
            ),
        }
    }

    /// Ends the connection when it next waits for the client, telling it `reason`.
    pub(crate) fn terminate(&self, reason: SqlError) {
        *self.reason.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
        self.terminating.store(true, Ordering::Relaxed);
        self.end.notify_one();
    }

    pub(crate) fn terminating(&self) -> bool {
        self.terminating.load(Ordering::Relaxed)
    }

    pub(crate) async fn ended(&self) {
        self.end.notified().await
    }

    pub(crate) fn reason(&self) -> Option<SqlError> {
        self.reason.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// Serves one connection until it ends or its control terminates it.
async fn serve_connection(
    socket: TcpStream,
    peer: SocketAddr,
    factory: Arc<Factory>,
    control: Arc<ConnectionControl>,
    tls: Option<TlsAcceptor>,
    seat: LaneSeat,
) {
    if let Err(e) = crate::connection::process_socket(socket, tls, factory, control, seat).await {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

impl Server {
    /// Opens the storage directory, creating it and the default database on first start.
    pub fn open(config: Config) -> Result<Arc<Server>, ShardError> {
        let map = config
            .partition_map()
            .map_err(|e| ShardError::new("F0000", e.to_string()))?;
        let storage = Storage::open(&config, &[DEFAULT_DATABASE], type_catalog())?;
        Ok(Arc::new(Server {
            tls: config.tls.as_ref().map(tls_acceptor).transpose()?,
            scram_over_tls: config
                .tls
                .as_ref()
                .and_then(|tls| std::fs::read(&tls.cert).ok())
                .and_then(|pem| crate::auth::scram_with_channel_binding(&pem)),
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
        check_stored: crate::values::check::check_stored,
        server_version: (
            litescale_router::SERVER_VERSION,
            crate::settings::SERVER_VERSION_NUM,
        ),
    }
}

pub(crate) struct Factory {
    pub(crate) handlers: Arc<Handlers>,
    pub(crate) cancels: Arc<CancelRegistry>,
}

impl PgWireServerHandlers for Factory {
    fn simple_query_handler(&self) -> Arc<impl pgwire::api::query::SimpleQueryHandler> {
        Arc::clone(&self.handlers)
    }

    fn extended_query_handler(&self) -> Arc<impl pgwire::api::query::ExtendedQueryHandler> {
        Arc::clone(&self.handlers)
    }

    fn startup_handler(&self) -> Arc<impl pgwire::api::auth::StartupHandler> {
        Arc::clone(&self.handlers)
    }

    fn copy_handler(&self) -> Arc<impl pgwire::api::copy::CopyHandler> {
        Arc::clone(&self.handlers)
    }

    fn cancel_handler(&self) -> Arc<impl pgwire::api::cancel::CancelHandler> {
        Arc::clone(&self.cancels)
    }
}

/// Serves clients on `listener` until `shutdown` resolves, then closes every connection
/// (rolling back open transactions) and the storage.
pub async fn serve(
    server: Arc<Server>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let factory = Arc::new(Factory {
        handlers: Arc::new(Handlers {
            server: Arc::clone(&server),
        }),
        cancels: Arc::clone(&server.cancels),
    });
    let lanes = crate::lanes::Lanes::per_core()?;
    let departures = tokio::spawn(crate::backends::end_statements_of_departed_clients(
        Arc::clone(&server.backends),
    ));
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                // The socket leaves this runtime's epoll for its lane's.
                let accepted = accepted.and_then(|(s, peer)| Ok((s.into_std()?, peer)));
                let (socket, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and the like: keep serving the others.
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                };
                let seat = lanes.seat(&socket);
                let lane = seat.handle().clone();
                let factory = Arc::clone(&factory);
                let control = Arc::new(ConnectionControl::new(socket.as_raw_fd()));
                server.controls.insert(peer, Arc::clone(&control));
                let bound = server.config().limits.max_unauthenticated_connections;
                server.startups.enter(peer, &control, bound);
                let server = Arc::clone(&server);
                let serve = async move {
                    match TcpStream::from_std(socket) {
                        Ok(socket) => {
                            let tls = server.tls.clone();
                            serve_connection(socket, peer, factory, control, tls, seat).await;
                        }
                        Err(e) => tracing::warn!(%peer, error = %e, "cannot serve a connection"),
                    }
                    server.startups.leave(peer);
                    server.controls.remove(&peer);
                };
                connections.spawn_on(serve, &lane);
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    tracing::info!(open = connections.len(), "shutting down");
    // A statement that runs on its connection's thread cannot be aborted, only interrupted:
    // until every connection has ended, interrupt what they run.
    departures.abort();
    connections.abort_all();
    loop {
        server.cancels.cancel_all();
        let ended = async { while connections.join_next().await.is_some() {} };
        if tokio::time::timeout(std::time::Duration::from_millis(100), ended)
            .await
            .is_ok()
        {
            break;
        }
    }
    server.storage.close();
    Ok(())
}
