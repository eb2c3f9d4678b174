//! `litescale worker`: a process that serves one partition, as its primary or as a read
//! replica, to the proxy over TCP. It keeps nothing outside the storage directory: it can
//! be killed at any moment and another started in its place.
//!
//! Each link (TCP connection) gets a thread of its own with blocking I/O: a link carries
//! one request at a time, and a thread per link avoids any hop between the socket and
//! SQLite. The writer link owns the partition's writing connection while it lasts.

use std::io::{BufReader, BufWriter, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use litescale_config::Config;
use rusqlite::Connection;

use crate::directory::{partition_path, valid_name};
use crate::engine::options::ConnectionOptions;
use crate::engine::reads::serve_reader;
use crate::engine::sql::catalog::TypeCatalog;
use crate::engine::statements::stream;
use crate::error::ShardError;
use crate::interrupt::LinkInterrupters;
use crate::messages::{Reply, Request, Response, Role};
use crate::storage::{
    ELECTION_WAIT, FENCED, Standby, Writer, finish_decided_parts, open_reader, read_epoch,
};
use crate::usage::timed;
use crate::workers::protocol::{read_sync, write_sync};

/// What a worker serves.
pub struct WorkerSpec {
    pub database: String,
    pub partition: usize,
    pub start_as: StartAs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAs {
    /// The primary, or fail if the partition has a live one.
    Primary,
    Replica,
    /// The primary if the partition has none, else a replica (for containers that
    /// restart with the same command after a failover).
    Auto,
}

struct WorkerState {
    path: PathBuf,
    txlog: PathBuf,
    partition: usize,
    options: ConnectionOptions,
    /// The writing connection, once this worker is the primary; taken by the writer link.
    writer: Mutex<WriterSlot>,
    writer_returned: Condvar,
    links: LinkInterrupters,
    /// The epoch this worker became primary with; 0 for a replica.
    epoch: AtomicI64,
    /// A replica's writable connection, ready for a promotion.
    standby: Mutex<Option<Standby>>,
}

enum WriterSlot {
    /// A replica: no writer.
    None,
    Idle(Box<Writer>),
    /// Lent to a writer link.
    Lent,
}

/// How long a new writer link waits for the previous one's thread to hand the writer back.
const WRITER_HANDOVER: Duration = Duration::from_secs(5);

/// Serves `spec` on `listener` until the process is killed. With `supervised`, the
/// process also ends when its stdin closes (the proxy that started it died).
pub fn run(
    config: &Config,
    types: TypeCatalog,
    spec: WorkerSpec,
    listener: TcpListener,
    supervised: bool,
) -> Result<(), ShardError> {
    if !valid_name(&spec.database) {
        return Err(ShardError::new(
            "42602",
            format!("invalid database name \"{}\"", spec.database),
        ));
    }
    // A worker may start before the proxy has created the database (containers start
    // in any order): the directory is all a database is to begin with.
    let dir = config.data_dir.join(&spec.database);
    std::fs::create_dir_all(&dir)?;
    let state = Arc::new(WorkerState {
        path: partition_path(&dir, spec.partition),
        txlog: dir.join("txlog"),
        partition: spec.partition,
        options: ConnectionOptions {
            storage: config.storage.clone(),
            statement_cache: config.limits.statement_cache,
            database: spec.database.clone(),
            types,
            usage: Arc::default(),
            root: config.data_dir.clone(),
            max_result_bytes: config.limits.max_result_bytes(),
        },
        writer: Mutex::new(WriterSlot::None),
        writer_returned: Condvar::new(),
        links: LinkInterrupters::default(),
        epoch: AtomicI64::new(0),
        standby: Mutex::new(None),
    });
    let primary = match spec.start_as {
        StartAs::Primary => state.become_primary(ELECTION_WAIT, false).map(|()| true)?,
        StartAs::Replica => false,
        StartAs::Auto => match state.become_primary(Duration::ZERO, false) {
            Ok(()) => true,
            Err(e) if e.sqlstate == FENCED => false,
            Err(e) => return Err(e),
        },
    };
    if !primary {
        // A replica checks it can read before it says it is ready, and prepares the
        // connection it would write with if promoted.
        open_reader(&state.path, &state.options)?;
        *state.standby.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Standby::open(&state.path, &state.options)?);
    }
    let addr = listener.local_addr()?;
    // The supervisor reads this line for the address.
    println!("litescale worker listening on {addr}");
    std::io::stdout().flush()?;
    if supervised {
        std::thread::spawn(|| {
            let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
            std::process::exit(0);
        });
    }
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let state = Arc::clone(&state);
        std::thread::spawn(move || {
            if let Err(e) = state.serve_link(stream) {
                tracing::debug!(error = %e, "link ended");
            }
        });
    }
    Ok(())
}

fn reply(out: &mut impl Write, busy_nanos: u64, body: Response) -> std::io::Result<()> {
    write_sync(out, &Reply { busy_nanos, body })?;
    out.flush()
}

impl WorkerState {
    fn slot(&self) -> std::sync::MutexGuard<'_, WriterSlot> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn role(&self) -> Role {
        match *self.slot() {
            WriterSlot::None => Role::Replica,
            _ => Role::Primary,
        }
    }

    fn epoch(&self) -> i64 {
        self.epoch.load(Ordering::Relaxed)
    }

    /// A primary that finds a newer epoch in the file was deposed (a forced promotion
    /// while it was paused or cut off): it exits rather than linger with the election
    /// lock. Writes it might still attempt are refused by the fence anyway.
    fn step_down_if_deposed(&self, check: &mut Option<Connection>) {
        let mine = self.epoch();
        if mine == 0 {
            return;
        }
        if check.is_none() {
            *check = Connection::open_with_flags(
                &self.path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .ok();
        }
        let Some(conn) = check else { return };
        if let Ok(now) = read_epoch(conn)
            && now != mine
        {
            tracing::error!(mine, now, "deposed: another worker is the primary; exiting");
            std::process::exit(3);
        }
    }

    /// Takes the election lock and a new epoch, then finishes the decided cross-partition
    /// transactions whose part here the previous primary had not committed.
    fn become_primary(&self, wait: Duration, force: bool) -> Result<(), ShardError> {
        let mut slot = self.slot();
        if !matches!(*slot, WriterSlot::None) {
            return Ok(());
        }
        let standby = self
            .standby
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let writer = match standby {
            Some(standby) => standby.promote(&self.path, wait, force, None)?,
            None => Writer::open(&self.path, &self.options, wait, force)?,
        };
        let finished = finish_decided_parts(&self.txlog, self.partition, &writer)?;
        if !finished.is_empty() {
            tracing::warn!(?finished, "finished decided cross-partition transactions");
        }
        tracing::info!(
            epoch = writer.epoch(),
            "this worker is the partition's primary"
        );
        *slot = WriterSlot::Idle(Box::new(writer));
        Ok(())
    }

    fn hello(&self, link: u64) -> Response {
        Response::Hello {
            link,
            pid: std::process::id(),
            role: self.role(),
            epoch: self.epoch(),
        }
    }

    fn serve_link(self: &Arc<Self>, stream: TcpStream) -> std::io::Result<()> {
        stream.set_nodelay(true)?;
        let mut input = BufReader::new(stream.try_clone()?);
        let mut out = BufWriter::new(stream);
        let Some(first) = read_sync::<Request>(&mut input)? else {
            return Ok(());
        };
        match first {
            Request::Hello { writer: true } => self.serve_writer(&mut input, &mut out),
            Request::Hello { writer: false } => self.serve_reader(&mut input, &mut out),
            Request::Interrupt { link } => {
                self.links.interrupt(link);
                reply(&mut out, 0, Response::Done)
            }
            Request::Promote { force } => {
                let answer = match self.become_primary(ELECTION_WAIT, force) {
                    Ok(()) => self.hello(0),
                    Err(e) => Response::Error(e),
                };
                reply(&mut out, 0, answer)
            }
            Request::Ping => {
                // The supervisor's health link: pinged while the worker lives; each answer
                // says what the worker is now.
                let mut check = None;
                self.step_down_if_deposed(&mut check);
                reply(&mut out, 0, self.hello(0))?;
                while let Some(Request::Ping) = read_sync::<Request>(&mut input)? {
                    self.step_down_if_deposed(&mut check);
                    reply(&mut out, 0, self.hello(0))?;
                }
                Ok(())
            }
            other => reply(
                &mut out,
                0,
                Response::Error(ShardError::new(
                    "08P01",
                    format!("a link starts with Hello, not {other:?}"),
                )),
            ),
        }
    }

    fn take_writer(&self) -> Result<Box<Writer>, ShardError> {
        let mut slot = self.slot();
        loop {
            match std::mem::replace(&mut *slot, WriterSlot::Lent) {
                WriterSlot::Idle(w) => return Ok(w),
                WriterSlot::None => {
                    *slot = WriterSlot::None;
                    return Err(ShardError::new(FENCED, "this worker is not the primary"));
                }
                WriterSlot::Lent => {
                    let (next, timeout) = self
                        .writer_returned
                        .wait_timeout(slot, WRITER_HANDOVER)
                        .unwrap_or_else(|e| e.into_inner());
                    slot = next;
                    if timeout.timed_out() && matches!(*slot, WriterSlot::Lent) {
                        return Err(ShardError::new("55006", "the writer is in use"));
                    }
                }
            }
        }
    }

    fn return_writer(&self, mut writer: Box<Writer>) {
        writer.abandon();
        *self.slot() = WriterSlot::Idle(writer);
        self.writer_returned.notify_all();
    }

    fn serve_writer(
        &self,
        input: &mut BufReader<TcpStream>,
        out: &mut BufWriter<TcpStream>,
    ) -> std::io::Result<()> {
        let mut writer = match self.take_writer() {
            Ok(w) => w,
            Err(e) => return reply(out, 0, Response::Error(e)),
        };
        let link = self.links.register();
        let served = (|| {
            reply(out, 0, self.hello(link.id))?;
            while let Some(request) = read_sync::<Request>(input)? {
                let (body, busy) = timed(|| writer.serve(request, &link.interrupter));
                let deposed = matches!(&body, Response::Error(e) if e.sqlstate == FENCED);
                reply(out, busy, body)?;
                if deposed {
                    // Another worker is the primary now: this one must not linger with a
                    // writing connection. Its supervisor (if any) replaces it.
                    tracing::error!("fenced: another worker became the primary; exiting");
                    std::process::exit(3);
                }
            }
            Ok(())
        })();
        self.return_writer(writer);
        served
    }

    fn serve_reader(
        &self,
        input: &mut BufReader<TcpStream>,
        out: &mut BufWriter<TcpStream>,
    ) -> std::io::Result<()> {
        let conn: Connection = match open_reader(&self.path, &self.options) {
            Ok(c) => c,
            Err(e) => return reply(out, 0, Response::Error(e)),
        };
        let link = self.links.register();
        reply(out, 0, self.hello(link.id))?;
        let mut core = FollowArrival::default();
        while let Some(request) = read_sync::<Request>(input)? {
            core.follow(input.get_ref());
            if let Request::Stream { sql, params } = request {
                let mut failed = None;
                stream(
                    &conn,
                    &sql,
                    &params,
                    &link.interrupter,
                    |body| match reply(out, 0, body) {
                        Ok(()) => true,
                        Err(e) => {
                            failed = Some(e);
                            false
                        }
                    },
                );
                if let Some(e) = failed {
                    return Err(e);
                }
                continue;
            }
            let (body, busy) = timed(|| {
                serve_reader(
                    &conn,
                    &request,
                    &link.interrupter,
                    self.options.max_result_bytes,
                )
            });
            reply(out, busy, body)?;
        }
        Ok(())
    }
}

/// Keeps a link's thread on the core its requests arrive on: the core of the proxy thread
/// that sends them (the proxy keeps each reader link to one core), which then wakes this
/// thread and is woken by its answer with no interrupt to another core.
#[derive(Default)]
struct FollowArrival {
    requests: u32,
    pinned: Option<usize>,
}

/// A link's arrival core is looked up (one getsockopt) at its first request and every
/// this many after: the proxy keeps a link to one core, so it seldom changes.
const FOLLOW_EVERY: u32 = 32;

impl FollowArrival {
    fn follow(&mut self, link: &TcpStream) {
        let due = self.requests.is_multiple_of(FOLLOW_EVERY);
        self.requests = self.requests.wrapping_add(1);
        if !due {
            return;
        }
        let Ok(core) = socket2::SockRef::from(link).cpu_affinity() else {
            return;
        };
        if self.pinned != Some(core)
            && core_affinity::set_for_current(core_affinity::CoreId { id: core })
        {
            self.pinned = Some(core);
        }
    }
}
