//! Worker processes: the protocol's framing, the proxy's links, the supervisor, the worker's main.
//! It must not know what a partition's calls mean: it carries requests to a worker, answers back.
//!
//! The worker process hands what it is asked to the engine and the storage.
//!
//! Order inside: `protocol` <- `link` <- `supervisor`; `protocol` <- `worker`.

mod link;
mod protocol;
mod supervisor;
pub mod worker;

pub use link::DirectWriter;
pub(crate) use link::{Link, note_answer, roll_back_abandoned};
pub(crate) use protocol::{read_async, write_async};
pub(crate) use supervisor::{Launch, RemoteWriter, lost, rolled_back_already, transaction_lost};
pub use supervisor::{WorkerGroup, WorkerInfo};
