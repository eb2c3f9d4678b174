//! Real client programs against litescale: psql, pgbench and the driver matrix (Python,
//! Node.js, Java, Ruby and Rust drivers). Each runs unchanged, as against PostgreSQL.

mod drivers;
mod pgbench;
mod psql;
mod rust_drivers;
