//! Driver programs in other languages, run against the in-process server. Each prints
//! "<name> ok" at its end and exits non-zero on the first failure.

use std::process::Command;

use crate::harness::TestServer;

/// Runs `program args... <port>` against a fresh server; asserts it ends with `marker`.
async fn run_driver(program: &'static str, args: &[&str], marker: &'static str, hint: &str) {
    let server = TestServer::start().await;
    let mut command = Command::new(program);
    command.args(args).arg(server.addr.port().to_string());
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{program} must be installed ({hint}): {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains(marker),
        "{program} {args:?} failed ({hint}):\n{stdout}\n{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_postgres_pool_types_transactions_and_batches() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/drivers/node_pg.js");
    run_driver(
        "node",
        &[script],
        "node pg ok",
        "npm install in tests/drivers, as .ci/run does",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ruby_pg_gem_types_transactions_and_batches() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/drivers/ruby_pg.rb");
    run_driver(
        "ruby",
        &[script],
        "ruby pg ok",
        "Debian: apt install ruby-pg",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_drivers_orm_and_their_catalog_introspection() {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/drivers/python_catalog.py"
    );
    run_driver(
        "python3",
        &[script],
        "python orm ok",
        "pip install 'psycopg[binary]' asyncpg sqlalchemy",
    )
    .await;
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
