//! What each tenant's statements cost, counted where they run on SQLite: the metering a
//! bill can be computed from (with the bytes its files take, which the storage measures).
//! Counters start at zero with the process.

use crate::messages::Response;
use crate::value::Outcome;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

#[derive(Debug, Default)]
pub struct Usage {
    statements: AtomicU64,
    rows_returned: AtomicU64,
    rows_written: AtomicU64,
    compute_nanos: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UsageSnapshot {
    pub statements: u64,
    pub rows_returned: u64,
    pub rows_written: u64,
    /// Time SQLite spent running the tenant's statements.
    pub compute_nanos: u64,
}

/// Rows a statement returned and wrote.
fn counts(outcome: &Outcome) -> (u64, u64) {
    match outcome {
        Outcome::Rows(r) => (r.rows.len() as u64, 0),
        Outcome::Changed(n) => (0, *n),
    }
}

impl Usage {
    /// One statement that kept SQLite busy for `busy_nanos` and answered `response` (or
    /// a group of statements, sharing the time).
    pub(crate) fn record(&self, busy_nanos: u64, response: &Response) {
        let (returned, written) = match response {
            Response::Outcome(o) | Response::MaybeOutcome(Some(o)) => counts(o),
            Response::Count(n) => (0, *n),
            Response::Outcomes(outcomes) => {
                let share = busy_nanos / outcomes.len().max(1) as u64;
                for outcome in outcomes {
                    let (returned, written) = outcome.as_ref().map_or((0, 0), counts);
                    self.add(share, returned, written);
                }
                return;
            }
            _ => (0, 0),
        };
        self.add(busy_nanos, returned, written);
    }

    pub(crate) fn add(&self, busy_nanos: u64, returned: u64, written: u64) {
        self.statements.fetch_add(1, Ordering::Relaxed);
        self.rows_returned.fetch_add(returned, Ordering::Relaxed);
        self.rows_written.fetch_add(written, Ordering::Relaxed);
        self.compute_nanos.fetch_add(busy_nanos, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> UsageSnapshot {
        UsageSnapshot {
            statements: self.statements.load(Ordering::Relaxed),
            rows_returned: self.rows_returned.load(Ordering::Relaxed),
            rows_written: self.rows_written.load(Ordering::Relaxed),
            compute_nanos: self.compute_nanos.load(Ordering::Relaxed),
        }
    }
}

/// How long a request kept SQLite busy, for metering.
pub(crate) fn timed<R>(job: impl FnOnce() -> R) -> (R, u64) {
    let started = Instant::now();
    let result = job();
    let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    (result, nanos)
}
