//! What operators see and steer: the admin console and the /metrics endpoint.
//! It must not know the wire protocol: the console answers tables and tags.
//!
//! The console is database `litescale`: SHOW, RELOAD, PAUSE, KILL, workers. The protocol
//! room sends its answers.
//!
//! Order: `console` and `telemetry` stand apart.

pub(crate) mod console;
pub(crate) mod telemetry;
