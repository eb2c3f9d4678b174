//! The Node.js frameworks: knex, Sequelize, TypeORM and Drizzle (their packages pinned in
//! tests/frameworks/node/package-lock.json).

use super::run_program;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knex_migrates_queries_and_streams() {
    run_program("node", "knex", "node/knex.js", "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequelize_syncs_alters_and_queries() {
    run_program("node", "sequelize", "node/sequelize.js", "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typeorm_generates_and_runs_migrations_and_queries() {
    run_program("node", "typeorm", "node/typeorm.js", "").await;
}

/// drizzle-kit push's introspection reads pg_index through a LATERAL over unnest and
/// generate_subscripts, which litescale refuses: push is a known gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drizzle_generates_migrates_and_queries() {
    run_program("node", "drizzle", "node/drizzle.js", "push").await;
}
