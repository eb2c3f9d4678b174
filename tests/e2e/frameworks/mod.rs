//! The frameworks matrix: each framework's program under `tests/frameworks/<name>/` runs
//! against a fresh server, as a project of that framework runs (its own commands, nothing
//! litescale-specific in the application code). A step litescale cannot take yet is named
//! in KNOWN_GAPS, and the program asserts litescale's answer for it (so the test fails the
//! day the answer changes); the same programs pass against PostgreSQL 15 with none.

mod node;
mod python;
mod ruby;
mod rust;

use std::process::Command;

use crate::harness::TestServer;

/// Runs `tests/frameworks/<program>` with `interpreter` against a fresh server (see
/// [`run`]).
async fn run_program(interpreter: &'static str, framework: &str, program: &str, known_gaps: &str) {
    let script = format!("{}/tests/frameworks/{program}", env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new(interpreter);
    command.arg(&script);
    run(framework, command, known_gaps).await;
}

/// Runs the Rust framework program `framework` (tests/frameworks/rust's binary of that
/// name, which scripts/test builds into target/frameworks-rust) against a fresh server.
async fn run_binary(framework: &str, known_gaps: &str) {
    let binary = format!(
        "{}/target/frameworks-rust/debug/{framework}",
        env!("CARGO_MANIFEST_DIR")
    );
    run(framework, Command::new(binary), known_gaps).await;
}

/// Runs `command` against a fresh server (its port the last argument), litescale's
/// `known_gaps` in KNOWN_GAPS; asserts it ends printing "<framework> ok".
async fn run(framework: &str, mut command: Command, known_gaps: &str) {
    let server = TestServer::start().await;
    command
        .arg(server.addr.port().to_string())
        .env("KNOWN_GAPS", known_gaps);
    let program = format!("{command:?}");
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{program} must be installed (scripts/test): {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains(&format!("{framework} ok")),
        "{framework} failed:\n{stdout}\n{stderr}"
    );
}
