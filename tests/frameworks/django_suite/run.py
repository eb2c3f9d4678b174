#!/usr/bin/env python3
"""A slice of Django's own test suite, the PostgreSQL backend's and the ORM's tests, against
a server on 127.0.0.1:<port>: Django 5.1.15's source distribution from PyPI (its tests/ and
tests/runtests.py), downloaded once into a cache directory ($DJANGO_SUITE_CACHE, by default
target/django-suite), run with suite_settings (the postgresql backend; the runner creates
and drops test_django_suite itself). Prints "django-suite ok" when the tests that fail are
exactly those of the known gaps named in KNOWN_GAPS (known_gaps.py lists each gap's tests
and why they fail); a gap's test that passes fails the run too, so the list stays true.
Against PostgreSQL KNOWN_GAPS is unset and every test must pass.

    python3 tests/frameworks/django_suite/run.py <port>
"""
import os
import re
import subprocess
import sys
import tarfile

from known_gaps import GAPS

HERE = os.path.dirname(os.path.abspath(__file__))
VERSION = "5.1.15"
# The backend's own tests (backends.postgresql among them), then the ORM's: queries, lookups,
# expressions, aggregates, database functions, transactions and row locks. Left out against
# litescale as it is: schema and migrations (their tearDown's DROP TABLE ... CASCADE is
# refused while foreign keys reference the table, and every later test then finds the table
# there; migrations also takes minutes), model_fields (a model's column COLLATE "sv-x-icu"
# fails the test database's creation), postgres_tests (CREATE EXTENSION bloom, the same).
LABELS = [
    "backends",
    "basic",
    "lookup",
    "queries",
    "expressions",
    "aggregation",
    "db_functions",
    "transactions",
    "select_for_update",
]


def fail(message):
    sys.exit(f"django-suite: {message}")


def source(cache):
    """Django's source distribution, unpacked; pip fetches it (the wheel has no tests/)."""
    root = os.path.join(cache, f"django-{VERSION}")
    done = os.path.join(root, ".unpacked")
    if os.path.exists(done):
        return root
    sdist = os.path.join(cache, f"django-{VERSION}.tar.gz")
    if not os.path.exists(sdist):
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-binary", ":all:",
                        "--no-deps", "--dest", cache, f"Django=={VERSION}"], check=True)
    with tarfile.open(sdist) as tar:
        # The "data" filter (refusing links and paths out of the cache) where Python has it.
        tar.extractall(cache, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    open(done, "w").close()
    return root


def failed_tests(output):
    """The ids (module.Class.test) of the tests unittest reports as FAIL or ERROR; a test's
    failing subtests count once, a class whose setUpClass failed as Class.setUpClass."""
    failed = set()
    for name, where in re.findall(r"^(?:FAIL|ERROR): (\w+) \(([\w.]+)\)", output, re.M):
        failed.add(f"{where}.{name}" if not where.endswith(f".{name}") else where)
    return failed


def main():
    port = sys.argv[1]
    named = set(filter(None, os.environ.get("KNOWN_GAPS", "").split(",")))
    unknown = named - GAPS.keys()
    if unknown:
        fail(f"KNOWN_GAPS names gaps known_gaps.py lacks: {sorted(unknown)}")
    expected = {test: gap for gap in named for test in GAPS[gap]["tests"]}

    cache = os.environ.get("DJANGO_SUITE_CACHE") or os.path.join(HERE, "..", "..", "..", "target", "django-suite")
    os.makedirs(cache, exist_ok=True)
    root = source(os.path.abspath(cache))
    # The sdist's own django package runs its tests; the settings module comes from here.
    env = dict(os.environ, DJANGO_SUITE_PORT=port, PYTHONPATH=os.pathsep.join([root, HERE]))
    # One process (--parallel 1): parallel runs clone the test database per worker.
    # --noinput drops a test database a killed run left behind.
    done = subprocess.run(
        [sys.executable, "runtests.py", "--settings=suite_settings", "--parallel", "1", "--noinput", *LABELS],
        cwd=os.path.join(root, "tests"), env=env, capture_output=True, text=True, timeout=1800,
    )
    output = done.stdout + done.stderr
    ran = re.search(r"^Ran (\d+) tests? in [\d.]+s$", output, re.M)
    result = re.search(r"^(OK|FAILED)\b.*$", output[ran.end():] if ran else "", re.M)
    if not ran or not result:
        fail(f"runtests.py did not run the tests (exit {done.returncode}):\n{output[-5000:]}")
    summary = f"{ran.group(0)}: {result.group(0)}"
    if "unexpected success" in summary:
        fail(f"a test marked as an expected failure passed: {summary}")

    failed = failed_tests(output)
    new = sorted(failed - expected.keys())
    fixed = sorted(expected.keys() - failed)
    if new or fixed:
        report = [f"django-suite: {summary}"]
        if new:
            report.append("failing, not a known gap:\n  " + "\n  ".join(new))
        if fixed:
            report.append("known gaps' tests that pass now (drop them from known_gaps.py):\n  "
                          + "\n  ".join(f"{t} ({expected[t]})" for t in fixed))
        sys.exit("\n".join(report) + f"\n\n{output[-20000:]}" if new else "\n".join(report))
    print(f"{summary} ({len(failed)} tests failed, each a known gap's)")
    print("django-suite ok")


if __name__ == "__main__":
    main()
