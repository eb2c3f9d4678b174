//! The Python frameworks and tools: Django (and a slice of its own test suite), Alembic and
//! pgcli (their packages pinned in tests/frameworks/requirements.txt).

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

/// Django's own tests of its PostgreSQL backend and ORM (tests/frameworks/django_suite):
/// the tests that fail are exactly those of these gaps, each explained, with its tests, in
/// tests/frameworks/django_suite/known_gaps.py.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn django_test_suite_slice_fails_only_its_known_gaps() {
    let gaps = [
        "daylight saving time after 2099",
        "posix time zone names",
        "pgcrypto sha1",
        "regex back-references",
        "icu collations",
        "parenthesized set operations",
        "explain formats",
        "row lock clauses",
        "pg_cursors",
        "distinct with order by outside the select list",
        "set role",
        "alter sequence rename",
        "plpgsql functions",
    ];
    run_program(
        "python3",
        "django-suite",
        "django_suite/run.py",
        &gaps.join(","),
    )
    .await;
}
