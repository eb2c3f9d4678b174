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
        out.status.success()
            && stdout.contains("python drivers ok")
            && stdout.contains("python orm ok"),
        "python drivers failed (pip install 'psycopg[binary]' asyncpg sqlalchemy):\n{stdout}\n{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jdbc_statements_batches_and_database_metadata() {
    let server = TestServer::start().await;
    let source = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/drivers/JdbcCatalog.java"
    );
    let jar = "/usr/share/java/postgresql.jar";
    let classes = tempfile::tempdir().unwrap();
    let dir = classes.path().to_owned();
    let port = server.addr.port().to_string();
    let out = tokio::task::spawn_blocking(move || {
        let compiled = Command::new("javac")
            .args(["-cp", jar, "-d"])
            .arg(&dir)
            .arg(source)
            .status()
            .expect("javac must be installed");
        assert!(
            compiled.success(),
            "javac failed (apt install libpostgresql-jdbc-java)"
        );
        Command::new("java")
            .arg("-cp")
            .arg(format!("{jar}:{}", dir.display()))
            .args(["JdbcCatalog", &port])
            .output()
            .expect("java must be installed")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("jdbc ok"),
        "JDBC program failed:\n{stdout}\n{stderr}"
    );
}
