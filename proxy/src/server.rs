//! The listener: accepts connections, hands each to the protocol handlers, and shuts
//! down cleanly.

use std::future::Future;
use std::sync::Arc;

use litescale_config::{Config, DEFAULT_DATABASE};
use litescale_shard::{ShardError, Storage, TypeCatalog};
use pgwire::api::{PgWireServerHandlers, RandomPidSecretKeyGenerator};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::cancel::CancelRegistry;
use crate::wire::Handlers;

/// Everything connections share: configuration, storage, the cancel registry.
pub struct Server {
    pub(crate) config: Config,
    pub(crate) storage: Storage,
    pub(crate) map: Arc<litescale_config::PartitionMap>,
    pub(crate) cancels: Arc<CancelRegistry>,
    pub(crate) pids: RandomPidSecretKeyGenerator,
    pub(crate) wait_graph: Arc<crate::coordinator::WaitGraph>,
}

impl Server {
    /// Opens the storage directory, creating it and the default database on first start.
    pub fn open(config: Config) -> Result<Arc<Server>, ShardError> {
        let map = config
            .partition_map()
            .map_err(|e| ShardError::new("F0000", e.to_string()))?;
        let storage = Storage::open(&config, &[DEFAULT_DATABASE], type_catalog())?;
        Ok(Arc::new(Server {
            config,
            storage,
            map: Arc::new(map),
            cancels: Arc::new(CancelRegistry::default()),
            pids: RandomPidSecretKeyGenerator::default(),
            wait_graph: Arc::default(),
        }))
    }

    pub fn config(&self) -> &Config {
        &self.config
    }
}

/// Postgres' type rules, handed to the storage for its pg_catalog views.
pub(crate) fn type_catalog() -> TypeCatalog {
    use litescale_router::types;
    TypeCatalog {
        of_declared: types::catalog_of_declared,
        format: types::format_type,
        all: types::catalog_types,
        server_version: (
            litescale_router::SERVER_VERSION,
            crate::settings::SERVER_VERSION_NUM,
        ),
    }
}

struct Factory {
    handlers: Arc<Handlers>,
    cancels: Arc<CancelRegistry>,
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
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let (socket, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and the like: keep serving the others.
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                };
                let factory = Arc::clone(&factory);
                connections.spawn(async move {
                    if let Err(e) = pgwire::tokio::process_socket(socket, None, factory).await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    tracing::info!(open = connections.len(), "shutting down");
    connections.shutdown().await;
    server.storage.close();
    Ok(())
}
