//! Django 5: tests/frameworks/django/run.py (migrations, the ORM, inspectdb, flush).

use std::process::Command;

use crate::harness::TestServer;

/// What litescale cannot do that the program meets (see its exercise command).
const KNOWN_GAPS: &str = "numeric past 15 digits";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn django_migrates_and_runs_its_orm() {
    let server = TestServer::start().await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/frameworks/django/run.py"
    );
    let mut command = Command::new("python3");
    command
        .arg(script)
        .arg(server.addr.port().to_string())
        .env("KNOWN_GAPS", KNOWN_GAPS);
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("python3 must be installed (scripts/test installs the matrix's packages)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("django ok"),
        "django failed:\n{stdout}\n{stderr}"
    );
}
