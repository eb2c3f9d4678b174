//! The Python frameworks and tools: Django, Alembic and pgcli (their packages pinned in
//! tests/frameworks/requirements.txt).

use super::run_program;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn django_migrates_and_runs_its_orm() {
    // Numeric past 15 digits: a DecimalField(max_digits=24) value that needs them.
    run_program(
        "python3",
        "django",
        "django/run.py",
        "numeric past 15 digits",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alembic_autogenerates_upgrades_and_downgrades() {
    run_program("python3", "alembic", "alembic/run.py", "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgcli_starts_and_completes_names() {
    run_program("python3", "pgcli", "pgcli/run.py", "").await;
}
