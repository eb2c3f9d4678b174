//! Issue 21's hardening: what hostile or careless clients cannot do to the server or to
//! other clients. `input`: statements and values; `resources`: what a client may hold.

mod input;
mod resources;
