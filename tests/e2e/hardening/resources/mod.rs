//! What one client may make the server hold: results it does not read, materialised results,
//! a writer it keeps, a statement it leaves running, connection slots and authentication.

mod auth;
mod departure;
mod result_cap;
mod results;
mod sessions;
