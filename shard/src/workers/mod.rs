//! Worker processes: the worker protocol's framing, the proxy's links to workers, the
//! supervisor that starts, balances and replaces them, and the worker process itself.
//! It must not know what a partition's calls mean: it carries requests to a worker and
//! its answers back; the worker hands them to the engine and storage.
//!
//! Order inside: `protocol` <- `link` <- `supervisor`; `protocol` <- `worker`.

mod link;
mod protocol;
mod supervisor;
pub mod worker;

pub use link::DirectWriter;
pub(crate) use supervisor::{Launch, RemoteWriter};
pub use supervisor::{WorkerGroup, WorkerInfo};
