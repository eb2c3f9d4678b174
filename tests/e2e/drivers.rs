//! Driver programs in other languages, run against the in-process server.

use std::process::Command;

use crate::harness::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_drivers_and_their_catalog_introspection() {
    let server = TestServer::start().await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/drivers/python_catalog.py"
    );
    let port = server.addr.port().to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(script)
            .arg(port)
            .output()
            .expect("python3 must be installed")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("python drivers ok"),
        "python drivers failed (pip install 'psycopg[binary]' asyncpg sqlalchemy):\n{stdout}\n{stderr}"
    );
}
