//! What operators see and steer: the admin console (database `litescale`: SHOW, RELOAD,
//! PAUSE, KILL, workers) and the Prometheus /metrics endpoint.
//! It must not know the wire protocol: the console answers tables and tags, which the
//! protocol room sends.
//!
//! Order: `console` and `telemetry` stand apart.

pub(crate) mod console;
pub(crate) mod telemetry;
