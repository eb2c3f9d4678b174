//! The Rust frameworks: Diesel and SeaORM (tests/frameworks/rust, a project of its own
//! whose Cargo.lock pins them; scripts/test builds its binaries).

use super::run_binary;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diesel_migrates_and_queries() {
    run_binary("diesel", "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seaorm_migrates_and_queries() {
    run_binary("seaorm", "").await;
}
