#!/usr/bin/env bash
# Records the conformance goldens: starts a throwaway PostgreSQL 15 (initdb'd with the C.UTF-8
# locale, TimeZone UTC and DateStyle 'ISO, MDY' as litescale's sessions start), listening on
# a Unix socket in a temporary directory only, and runs the recorder
# (tests/conformance/record.rs) against it, which writes tests/conformance/expected/*.out.
#
#   tests/conformance/record.sh [topic...]       (no topic: every topic)
#
# Needs the PostgreSQL 15 server binaries (/usr/lib/postgresql/15/bin, Debian's
# postgresql-15) and root or the `postgres` user (initdb refuses to run as root).
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PORT=5432 # only names the socket file: the server listens on no TCP port

if [ "$(id -u)" = 0 ]; then
    as_postgres() { runuser -u postgres -- "$@"; }
else
    as_postgres() { "$@"; }
fi

WORK=$(mktemp -d /tmp/litescale-conformance.XXXXXX)
chmod 755 "$WORK"
cleanup() {
    if [ -f "$WORK/pg/postmaster.pid" ]; then
        as_postgres "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

(cd "$ROOT" && cargo build -q --example conformance_record)

mkdir -p "$WORK/pg"
[ "$(id -u)" = 0 ] && chown postgres "$WORK/pg"
as_postgres "$PGBIN/initdb" -D "$WORK/pg" -A trust -U postgres --locale=C.UTF-8 --encoding=UTF8 >/dev/null
as_postgres "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg/server.log" -w -o \
    "-p $PORT -k $WORK/pg -c listen_addresses= -c fsync=off -c TimeZone=UTC -c DateStyle='ISO, MDY' -c IntervalStyle=postgres -c extra_float_digits=1 -c lc_messages=C" \
    start >/dev/null
"$PGBIN/postgres" --version >&2

"$ROOT/target/debug/examples/conformance_record" "$WORK/pg/.s.PGSQL.$PORT" "$@"
