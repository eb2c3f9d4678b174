//! The listener: accepts connections, seats each on a lane with its off-switch and a
//! startup place, serves it, and shuts down cleanly.

use std::future::Future;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;

use pgwire::tokio::TlsAcceptor;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::network::connection::process_socket;
use crate::network::lanes::{LaneSeat, Lanes};
use crate::protocol::handlers::{Factory, Handlers};
use crate::server::shared::Server;
use crate::session::backends::end_statements_of_departed_clients;
use crate::session::interrupts::control::ConnectionControl;

/// Serves one connection until it ends or its control terminates it.
async fn serve_connection(
    socket: TcpStream,
    peer: SocketAddr,
    factory: Arc<Factory>,
    control: Arc<ConnectionControl>,
    tls: Option<TlsAcceptor>,
    seat: LaneSeat,
) {
    if let Err(e) = process_socket(socket, tls, factory, control, seat).await {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
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
    let lanes = Lanes::per_core()?;
    let departures = tokio::spawn(end_statements_of_departed_clients(Arc::clone(
        &server.backends,
    )));
    // Other litescale processes' writes to the partitions this one is primary of.
    let peers = tokio::spawn(litescale_shard::serve_peers(Arc::clone(&server.storage)));
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
    peers.abort();
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
