//! Where other litescale processes on the same replicated storage send the writes of the
//! partitions this one is primary of ([storage] peer_listen): a link per peer session's
//! writer, in the worker protocol's framing, opened by `Request::Forward` naming the
//! partition, then writer requests; or a link of its own that interrupts another link.

use std::sync::Arc;

use tokio::io::BufStream;
use tokio::net::TcpStream;

use crate::databases::Storage;
use crate::error::ShardError;
use crate::interrupt::LinkInterrupters;
use crate::messages::{Reply, Request, Response, Role};
use crate::partition::ServedWriter;
use crate::workers::{read_async, write_async};

/// Serves peers on `[storage] peer_listen` until the task is dropped; nothing to serve
/// without it.
pub async fn serve_peers(storage: Arc<Storage>) -> std::io::Result<()> {
    let Some(listener) = storage.take_peer_listener() else {
        return Ok(());
    };
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let asked = Arc::clone(&storage);
    let secret = match tokio::task::spawn_blocking(move || asked.peer_secret()).await {
        Ok(Ok(secret)) => Arc::new(secret),
        Ok(Err(e)) => return Err(std::io::Error::other(e)),
        Err(e) => return Err(std::io::Error::other(e)),
    };
    let links = Arc::new(LinkInterrupters::default());
    // Dropped with this task: a process that stops serving stops serving its peers too.
    let mut serving = tokio::task::JoinSet::new();
    loop {
        while serving.try_join_next().is_some() {}
        let (socket, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "accepting a peer failed");
                continue;
            }
        };
        let (storage, links) = (Arc::clone(&storage), Arc::clone(&links));
        let secret = Arc::clone(&secret);
        serving.spawn(async move {
            if let Err(e) = serve_link(socket, &storage, &links, &secret).await {
                tracing::debug!(%peer, error = %e, "peer link ended");
            }
        });
    }
}

async fn serve_link(
    socket: TcpStream,
    storage: &Arc<Storage>,
    links: &LinkInterrupters,
    peers_secret: &str,
) -> std::io::Result<()> {
    socket.set_nodelay(true)?;
    let mut stream = BufStream::new(socket);
    let first: Request = read_async(&mut stream).await?;
    let (database, partition) = match first {
        Request::Forward {
            database,
            partition,
            secret,
        } => {
            if secret != peers_secret {
                let refused = ShardError::new(
                    "28000",
                    "a peer link must present the storage engine's peers' secret",
                );
                return send(&mut stream, Response::Error(refused)).await;
            }
            (database, partition)
        }
        Request::Interrupt { link } => {
            links.interrupt(link);
            return send(&mut stream, Response::Done).await;
        }
        other => {
            let refused = ShardError::new(
                "08P01",
                format!("a peer link starts with Forward, not {other:?}"),
            );
            return send(&mut stream, Response::Error(refused)).await;
        }
    };
    let mut writer = match open_partition(storage, &database, partition).await {
        Ok(writer) => writer,
        Err(e) => return send(&mut stream, Response::Error(e)).await,
    };
    let link = links.register();
    let hello = Response::Hello {
        link: link.id,
        pid: std::process::id(),
        role: Role::Primary,
        epoch: 0,
    };
    send(&mut stream, hello).await?;
    loop {
        let request: Request = read_async(&mut stream).await?;
        let body = writer.serve(request, Arc::clone(&link.interrupter)).await;
        send(&mut stream, body).await?;
    }
}

/// Partition `partition` of `database`, if this process is its primary (the database is
/// opened first if it is not yet, which may take its leases).
async fn open_partition(
    storage: &Arc<Storage>,
    database: &str,
    partition: usize,
) -> Result<ServedWriter, ShardError> {
    let schema_changes = storage.schema_changes();
    let storage = Arc::clone(storage);
    let name = database.to_owned();
    let opened = tokio::task::spawn_blocking(move || storage.database(&name))
        .await
        .map_err(|e| ShardError::new("XX000", format!("opening a database failed: {e}")))??;
    let partition = opened.partitions.get(partition).ok_or_else(|| {
        ShardError::new(
            "08P01",
            format!("database \"{database}\" has no partition {partition}"),
        )
    })?;
    ServedWriter::new(Arc::clone(partition), schema_changes)
}

async fn send(stream: &mut BufStream<TcpStream>, body: Response) -> std::io::Result<()> {
    write_async(
        stream,
        &Reply {
            busy_nanos: 0,
            body,
        },
    )
    .await
}

/// Opens a peer link to `address` presenting `secret`, as another litescale process
/// would, and answers how the primary took it: for tests that must knock with the
/// wrong secret.
pub async fn knock(address: &str, database: &str, secret: &str) -> Result<(), ShardError> {
    let hello = Request::Forward {
        database: database.to_owned(),
        partition: 0,
        secret: secret.to_owned(),
    };
    crate::workers::Link::connect(address, &hello)
        .await
        .map(drop)
        .map_err(|e| match e.downcast::<ShardError>() {
            Ok(refused) => refused,
            Err(e) => ShardError::new("08006", e.to_string()),
        })
}
