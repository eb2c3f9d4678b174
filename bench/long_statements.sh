#!/usr/bin/env bash
# Planning time of long statements (issue 21, items 1 and 6): IN lists up to the default
# max_query_bytes (1 MiB) and a long operator chain, each timed end to end through the
# wire protocol. Planning is linear in the text; these print what that costs.
#
#   bench/long_statements.sh
#
# Uses target/release/litescale (built here) unless BIN names another binary. Needs
# psql and python3 with psycopg (.ci/run installs both).
set -euo pipefail
PORT=${PORT:-54332}
source "$(dirname "$0")/litescale_server.sh"
PORT=$PORT python3 - <<'PY'
import os, time
import psycopg

port = os.environ["PORT"]
with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True) as conn:
    conn.execute("CREATE TABLE t (a INT)")
    for n in (10_000, 50_000, 140_000):
        sql = "SELECT count(*) FROM t WHERE a IN (" + ", ".join(str(i) for i in range(n)) + ")"
        started = time.time()
        conn.execute(sql).fetchall()
        print(f"IN list of {n:>7} literals ({len(sql) >> 10:>4} KiB): {time.time() - started:.2f} s")
    sql = "SELECT " + " + ".join(["1"] * 1000)
    started = time.time()
    conn.execute(sql).fetchall()
    print(f"1,000-term + chain:                      {time.time() - started:.3f} s")
PY
