//! Where client connections run: one Tokio runtime per core, each with a single worker
//! thread and its own epoll, pinned to its core; a connection goes to the lane of the core
//! its packets arrive on.
//!
//! On one runtime with a worker per core, a socket that becomes readable on one worker
//! wakes another to steal the task: perf showed a third of the proxy's time in those
//! wake-ups (pgbench select-only, 8 clients, 2 cores: 50k TPS on one two-worker runtime,
//! 66k on a one-worker runtime). A one-worker runtime never wakes a second thread for
//! its own connections; one per core still uses every core. They are multi-thread
//! runtimes of one worker rather than current-thread ones because a statement that
//! keeps SQLite busy hands its thread's other connections over (`block_in_place`),
//! which only a multi-thread runtime can do.
//!
//! A lane on the core where its clients' packets arrive (`SO_INCOMING_CPU`: for a local
//! client the core it runs on, for a remote one the core the network card delivers to)
//! wakes its threads with no interrupt to another core. With lanes handed out in turn,
//! select-only ran at 52k–93k TPS depending on how pgbench's threads and the lanes fell
//! on the cores; pinned lanes chosen by arrival core ran at 105k, or 75k when a pgbench
//! thread moved to the other core after connecting; with connections following their
//! client's core ([`LaneSeat::better_lane`]), 94k–101k in 12 runs of 12. Pinned only,
//! without the choice by arrival core, it ran at 57k–65k.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::runtime::{Builder, Handle, Runtime};

/// Stack of a lane's threads (and of its blocking pool's, which plan long statements):
/// planning needs [`litescale_router::PLAN_STACK_BYTES`] (a statement nested as deeply as
/// the router allows), and the connection's own code runs above it. Reserved, not used:
/// the pages past what a thread touches are never allocated.
const LANE_STACK_BYTES: usize = litescale_router::PLAN_STACK_BYTES + (16 << 20);

pub(crate) struct Lanes {
    runtimes: Vec<Runtime>,
    directory: Directory,
}

/// What a connection needs to know of the lanes to move between them.
#[derive(Clone)]
struct Directory(Arc<[Lane]>);

struct Lane {
    handle: Handle,
    /// The core the lane's threads are pinned to, if they are.
    core: Option<usize>,
    connections: AtomicUsize,
}

impl Directory {
    fn counts(&self) -> Vec<usize> {
        self.0
            .iter()
            .map(|l| l.connections.load(Ordering::Relaxed))
            .collect()
    }

    /// The lane whose core `socket`'s packets last arrived on.
    fn arrival(&self, socket: socket2::SockRef<'_>) -> Option<usize> {
        let cpu = socket.cpu_affinity().ok()?;
        self.0.iter().position(|l| l.core == Some(cpu))
    }
}

/// How many waits for the client apart a connection checks which core its packets arrive
/// on (one getsockopt).
const CHECK_EVERY: u32 = 32;

/// A connection's place on a lane, counted there until dropped. A client thread may move
/// to another core after it connected: a connection whose packets keep arriving on
/// another lane's core moves there (when it waits for the client, see `connection.rs`).
pub(crate) struct LaneSeat {
    directory: Directory,
    lane: usize,
    waits: u32,
    /// Checks in a row that found the packets arriving on another lane's core.
    elsewhere: u32,
}

impl Drop for LaneSeat {
    fn drop(&mut self) {
        self.directory.0[self.lane]
            .connections
            .fetch_sub(1, Ordering::Relaxed);
    }
}

impl LaneSeat {
    pub(crate) fn handle(&self) -> &Handle {
        &self.directory.0[self.lane].handle
    }

    /// Called as the connection waits for its client: the lane it should move to, if its
    /// packets have arrived on another lane's core at two checks in a row and that lane
    /// has room (see [`choose`]).
    pub(crate) fn better_lane(&mut self, socket: socket2::SockRef<'_>) -> Option<usize> {
        self.waits = self.waits.wrapping_add(1);
        if !self.waits.is_multiple_of(CHECK_EVERY) {
            return None;
        }
        let arrival = self.directory.arrival(socket);
        match arrival {
            Some(lane) if lane != self.lane => self.elsewhere += 1,
            _ => self.elsewhere = 0,
        }
        let home = arrival.filter(|_| self.elsewhere >= 2)?;
        let mut counts = self.directory.counts();
        // As if this connection had not been seated yet.
        counts[self.lane] = counts[self.lane].saturating_sub(1);
        (choose(Some(home), &counts) == home).then_some(home)
    }

    /// Moves the seat to `lane`; the connection must go on on the returned runtime.
    pub(crate) fn move_to(&mut self, lane: usize) -> Handle {
        let lanes = &self.directory.0;
        lanes[lane].connections.fetch_add(1, Ordering::Relaxed);
        lanes[self.lane].connections.fetch_sub(1, Ordering::Relaxed);
        self.lane = lane;
        self.elsewhere = 0;
        metrics::counter!("litescale_connection_lane_moves_total").increment(1);
        lanes[lane].handle.clone()
    }
}

impl Lanes {
    /// One lane per core this process may use, pinned to it. When the process may run on
    /// more cores than it has a share of (a CPU quota, not a set of cores), the lanes are
    /// as many as its share and not pinned.
    pub(crate) fn per_core() -> std::io::Result<Lanes> {
        let share = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cores: Vec<Option<usize>> = match core_affinity::get_core_ids() {
            Some(ids) if ids.len() == share => ids.into_iter().map(|c| Some(c.id)).collect(),
            _ => vec![None; share],
        };
        let runtimes = cores
            .iter()
            .enumerate()
            .map(|(i, &core)| {
                Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name(format!("litescale-lane-{i}"))
                    .thread_stack_size(LANE_STACK_BYTES)
                    .on_thread_start(move || {
                        if let Some(id) = core {
                            core_affinity::set_for_current(core_affinity::CoreId { id });
                        }
                    })
                    .enable_all()
                    .build()
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        let lanes = runtimes
            .iter()
            .zip(cores)
            .map(|(runtime, core)| Lane {
                handle: runtime.handle().clone(),
                core,
                connections: AtomicUsize::new(0),
            })
            .collect();
        Ok(Lanes {
            runtimes,
            directory: Directory(lanes),
        })
    }

    /// The seat of a newly accepted `socket`, on the lane it is to be served on.
    pub(crate) fn seat(&self, socket: &std::net::TcpStream) -> LaneSeat {
        let directory = &self.directory;
        let home = directory.arrival(socket2::SockRef::from(socket));
        let lane = choose(home, &directory.counts());
        directory.0[lane]
            .connections
            .fetch_add(1, Ordering::Relaxed);
        LaneSeat {
            directory: directory.clone(),
            lane,
            waits: 0,
            elsewhere: 0,
        }
    }
}

/// The lane for a connection whose packets arrive on lane `home`'s core: that lane, unless
/// it already serves more than twice the connections of the emptiest lane (and a few
/// more), so that a network card that delivers every connection to one core still
/// spreads them over all; then, as for a connection with no home, the emptiest.
fn choose(home: Option<usize>, counts: &[usize]) -> usize {
    let (emptiest, fewest) = counts
        .iter()
        .copied()
        .enumerate()
        .min_by_key(|&(_, n)| n)
        .unwrap_or((0, 0));
    match home {
        Some(h) if counts[h] <= 2 * fewest + 2 => h,
        _ => emptiest,
    }
}

impl Drop for Lanes {
    /// Dropping a runtime waits for its tasks, which an async caller must not do; by now
    /// every connection has ended.
    fn drop(&mut self) {
        for runtime in self.runtimes.drain(..) {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::choose;

    #[test]
    fn a_connection_goes_to_the_lane_of_its_core_while_the_lanes_stay_near_even() {
        assert_eq!(choose(Some(1), &[0, 0]), 1);
        assert_eq!(choose(Some(1), &[3, 5]), 1);
        // Twice the emptiest and two more: the home lane is full enough.
        assert_eq!(choose(Some(1), &[3, 8]), 1);
        assert_eq!(choose(Some(1), &[3, 9]), 0);
        // Every connection arriving on core 0 still uses both lanes.
        let mut counts = [0, 0];
        for _ in 0..30 {
            counts[choose(Some(0), &counts)] += 1;
        }
        assert!(counts[1] >= 9, "{counts:?}");
        // No home (an arrival core outside the lanes'): the emptiest lane.
        assert_eq!(choose(None, &[4, 2, 3]), 1);
    }
}
