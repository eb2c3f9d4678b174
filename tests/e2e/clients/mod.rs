//! Real client programs against litescale: psql, pg_dump, pgbench and the driver matrix (Python,
//! Node.js, Java, Ruby and Rust drivers). Each runs unchanged, as against PostgreSQL.

mod drivers;
mod pg_dump;
mod pgbench;
mod psql;
mod rust_drivers;
