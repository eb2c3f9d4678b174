#!/usr/bin/env bash
# Runs pgbench's builtin scripts against litescale and against a local PostgreSQL 15
# (started here in a temporary directory, fsync on), same scale, clients and duration,
# both over TCP loopback with -M prepared, and prints TPS, average latency and the ratio.
#
#   bench/compare.sh [scale] [clients] [threads] [seconds]     (defaults: 10 8 2 20)
#
# Then a sweep of each workload at 1, 8 and 32 clients (SWEEP="1 8 32"); with REPORT=1
# bench/report.py writes BENCHMARKS.md and benchmarks.png from it.
#
# Needs: PostgreSQL 15 server binaries (/usr/lib/postgresql/15/bin), pgbench, and root or
# the `postgres` user (initdb refuses to run as root, so the server runs as `postgres`).
set -euo pipefail
SCALE=${1:-10}
CLIENTS=${2:-8}
THREADS=${3:-2}
SECONDS_EACH=${4:-20}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PG_PORT=${PG_PORT:-54329}
LS_PORT=${LS_PORT:-54330}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

WORK=$(mktemp -d /tmp/litescale-bench.XXXXXX)
chmod 755 "$WORK"
cleanup() {
    [ -n "${LS_PID:-}" ] && kill "$LS_PID" 2>/dev/null || true
    if [ -d "$WORK/pg" ]; then
        su postgres -c "$PGBIN/pg_ctl -D $WORK/pg -m fast stop" >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "building litescale (release)..." >&2
(cd "$ROOT" && cargo build --release -q)

echo "starting PostgreSQL 15 on port $PG_PORT (fsync on)..." >&2
mkdir -p "$WORK/pg" && chown postgres "$WORK/pg"
su postgres -c "$PGBIN/initdb -D $WORK/pg -A trust -U postgres" >/dev/null
su postgres -c "$PGBIN/pg_ctl -D $WORK/pg -l $WORK/pg/server.log -w -o '-p $PG_PORT -k $WORK/pg -c fsync=on -c synchronous_commit=on' start" >/dev/null

echo "starting litescale on port $LS_PORT..." >&2
"$ROOT/target/release/litescale" --listen "127.0.0.1:$LS_PORT" --data "$WORK/ls" >"$WORK/ls.log" 2>&1 &
LS_PID=$!
for _ in $(seq 50); do
    pg_isready -q -h 127.0.0.1 -p "$LS_PORT" && break
    sleep 0.1
done

run() { # name port script [clients] [log] -> "tps latency retried p99"
    local port=$2 script=$3 clients=${4:-$CLIENTS} log=${5:-}
    local out logging=()
    # With `log`, every transaction's latency is logged, for the 99th percentile.
    [ -n "$log" ] && logging=(-l --log-prefix="$WORK/lat")
    # Deadlocks between partition writers (40P01) are retried, as applications do.
    out=$(pgbench -h 127.0.0.1 -p "$port" -U postgres -M prepared -c "$clients" \
        -j "$((clients < THREADS ? clients : THREADS))" --max-tries=1000 "${logging[@]}" \
        -T "$SECONDS_EACH" -b "$script" postgres 2>&1)
    local p99=-
    if [ -n "$log" ]; then
        # pgbench's log: the third field is the transaction's latency in microseconds.
        p99=$(cat "$WORK"/lat.* | awk '{ print $3 }' | sort -n |
            awk '{ v[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; printf "%.3f", v[i] / 1000 }')
        rm -f "$WORK"/lat.*
    fi
    local failed tps lat retried
    failed=$(echo "$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
    tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
    lat=$(echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
    retried=$(echo "$out" | sed -n 's/^number of transactions retried: \([0-9]*\).*/\1/p')
    if [ -z "$tps" ] || [ "${failed:-0}" != "0" ]; then
        echo "pgbench against $1 ($script) failed:" >&2
        echo "$out" >&2
        exit 1
    fi
    echo "$tps $lat ${retried:-0} $p99"
}

for port in "$PG_PORT" "$LS_PORT"; do
    echo "pgbench -i -s $SCALE on port $port..." >&2
    pgbench -i -q -s "$SCALE" -h 127.0.0.1 -p "$port" -U postgres postgres >/dev/null 2>&1
done

printf "\nscale %s, %s clients, %s threads, %ss each, -M prepared, TCP loopback, %s\n\n" \
    "$SCALE" "$CLIENTS" "$THREADS" "$SECONDS_EACH" "$(nproc) cores"
printf "%-14s %14s %14s %12s %12s %8s\n" workload "pg TPS" "litescale TPS" "pg lat ms" "ls lat ms" ratio
for script in select-only simple-update tpcb-like; do
    read -r pg_tps pg_lat _ <<<"$(run postgres "$PG_PORT" "$script")"
    read -r ls_tps ls_lat _ <<<"$(run litescale "$LS_PORT" "$script")"
    ratio=$(awk -v a="$ls_tps" -v b="$pg_tps" 'BEGIN { printf "%.2f", a / b }')
    printf "%-14s %14.0f %14.0f %12s %12s %7sx\n" "$script" "$pg_tps" "$ls_tps" "$pg_lat" "$ls_lat" "$ratio"
done

# Client sweep for BENCHMARKS.md: each workload at 1, 8 and 32 clients on both systems,
# with the 99th percentile latency; bench/report.py writes the table and the chart.
SWEEP=${SWEEP:-1 8 32}
echo "system,workload,clients,tps,avg_ms,p99_ms" >"$WORK/sweep.csv"
for script in select-only simple-update tpcb-like; do
    for clients in $SWEEP; do
        for system in postgres:"$PG_PORT" litescale:"$LS_PORT"; do
            echo "sweep: $script, $clients clients, ${system%%:*}..." >&2
            read -r tps lat _ p99 <<<"$(run "${system%%:*}" "${system##*:}" "$script" "$clients" log)"
            echo "${system%%:*},$script,$clients,$tps,$lat,$p99" >>"$WORK/sweep.csv"
        done
    done
done
if [ -n "${REPORT:-}" ]; then
    python3 "$ROOT/bench/report.py" "$WORK/sweep.csv" "$ROOT" \
        "bench/compare.sh $SCALE $CLIENTS $THREADS $SECONDS_EACH"
fi

# Partitioned writes: a script keyed by aid (update and read one account) on litescale
# with 1 partition and with the 4 partitions of examples/pgbench-4-partitions.toml, as
# two autocommit statements and as a transaction block; both get ACCOUNTS rows through
# single-row INSERTs.
ACCOUNTS=${ACCOUNTS:-10000}
LS4_PORT=${LS4_PORT:-54331}
echo "starting litescale with 4 partitions on port $LS4_PORT..." >&2
"$ROOT/target/release/litescale" --config "$ROOT/examples/pgbench-4-partitions.toml" \
    --listen "127.0.0.1:$LS4_PORT" --data "$WORK/ls4" >"$WORK/ls4.log" 2>&1 &
LS4_PID=$!
trap 'kill $LS4_PID 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 50); do
    pg_isready -q -h 127.0.0.1 -p "$LS4_PORT" && break
    sleep 0.1
done
cat >"$WORK/keyed.sql" <<SQL
\\set aid random(1, $ACCOUNTS)
UPDATE keyed_accounts SET abalance = abalance + 1 WHERE aid = :aid;
SELECT abalance FROM keyed_accounts WHERE aid = :aid;
SQL
cat >"$WORK/keyed-block.sql" <<SQL
\\set aid random(1, $ACCOUNTS)
BEGIN;
UPDATE keyed_accounts SET abalance = abalance + 1 WHERE aid = :aid;
SELECT abalance FROM keyed_accounts WHERE aid = :aid;
END;
SQL
{
    echo "CREATE TABLE keyed_accounts (aid INT PRIMARY KEY, abalance INT);"
    seq "$ACCOUNTS" | awk '{ print "INSERT INTO keyed_accounts VALUES (" $1 ", 0);" }'
} >"$WORK/load.sql"
for port in "$LS_PORT" "$LS4_PORT"; do
    psql -q -X -h 127.0.0.1 -p "$port" -U postgres -f "$WORK/load.sql" >/dev/null
done
keyed() { # port script
    pgbench -n -h 127.0.0.1 -p "$1" -U postgres -M prepared -c "$CLIENTS" -j "$THREADS" \
        -T "$SECONDS_EACH" -f "$WORK/$2.sql" postgres 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
printf "\nkeyed update+select, %s accounts, %s clients\n" "$ACCOUNTS" "$CLIENTS"
printf "%-24s %16s %16s %8s\n" script "ls 1-part TPS" "ls 4-part TPS" "4p/1p"
for script in keyed keyed-block; do
    one=$(keyed "$LS_PORT" "$script")
    four=$(keyed "$LS4_PORT" "$script")
    printf "%-24s %16.0f %16.0f %7sx\n" "$script" "$one" "$four" \
        "$(awk -v a="$four" -v b="$one" 'BEGIN { printf "%.2f", a / b }')"
done

# Cross-partition transactions: tpcb-like on the 4-partition example, where accounts,
# tellers and branches are sharded by their own keys, so most transactions commit across
# partitions (two-phase, with a durable decision). 1 client shows the commit's own cost;
# CLIENTS clients add deadlocks between partition writers, which pgbench retries.
echo "pgbench -i -s $SCALE on the 4-partition litescale..." >&2
pgbench -i -q -s "$SCALE" -h 127.0.0.1 -p "$LS4_PORT" -U postgres postgres >/dev/null 2>&1
printf "\ntpcb-like across partitions (retried = deadlocks retried by pgbench)\n"
printf "%-8s %12s %16s %16s %10s %10s\n" clients "pg TPS" "ls 1-part TPS" "ls 4-part TPS" retried "4p/pg"
for clients in 1 "$CLIENTS"; do
    read -r pg_tps _ _ <<<"$(run postgres "$PG_PORT" tpcb-like "$clients")"
    read -r one_tps _ _ <<<"$(run litescale "$LS_PORT" tpcb-like "$clients")"
    read -r four_tps _ four_retried _ <<<"$(run litescale-4 "$LS4_PORT" tpcb-like "$clients")"
    printf "%-8s %12.0f %16.0f %16.0f %10s %9sx\n" "$clients" "$pg_tps" "$one_tps" "$four_tps" \
        "$four_retried" "$(awk -v a="$four_tps" -v b="$pg_tps" 'BEGIN { printf "%.2f", a / b }')"
done
