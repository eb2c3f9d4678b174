#!/usr/bin/env bash
# Local vs replicated storage, side by side in one run: litescale with its embedded default
# (the data directory, fsynced) and with [storage] engine = "jetstream" (three NATS
# JetStream nodes on this machine, fsync on every write, 3 replicas). Prints autocommit
# insert and pgbench tpcb-like TPS with p50/p99 latency at 1 and 8 clients (and tpcb-like
# at 8 once more with the engine nodes' CPU yielding to the rest, nice 15), the time a
# new litescale with an empty data directory takes to answer over a partition of the
# given sizes (its latest snapshot downloaded, the log after it replayed), and the write
# pause when the compute process is killed and another started, when it is killed while
# a peer ([storage] peer_listen) serves the same database, and when the stream's leader
# node is killed.
#
#   bench/storage.sh [seconds] [attach sizes in MB]      (defaults: 15 "100")
#
# All engine nodes share this machine's disk and cores: the numbers are a floor.
# ENGINE_GOMAXPROCS=N runs each node's Go code on N threads at most (Go's default: one per
# core; Go sets 1 itself in a container whose CPU limit is under one core, as three nodes
# given two cores would be).
# Needs: nats-server (scripts/test installs it), pgbench, psql, curl, python3.
set -euo pipefail
SECONDS_EACH=${1:-15}
ATTACH_MB=${2:-100}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/target/release/litescale"
LOCAL_PORT=54361
REPL_PORT=54362
PEER_PORT=54363

WORK=$(mktemp -d /tmp/litescale-storage.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    [ -n "${LS_PID:-}" ] && kill -9 "$LS_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "building litescale (release)..." >&2
(cd "$ROOT" && cargo build --release -q)

echo "starting three JetStream nodes..." >&2
routes="nats://127.0.0.1:16301, nats://127.0.0.1:16302, nats://127.0.0.1:16303"
node() { # i
    GOMAXPROCS=${ENGINE_GOMAXPROCS:-$(nproc)} nats-server -c "$WORK/n$1.conf" >"$WORK/n$1.log" 2>&1 &
    NODE_PID[$1]=$!
    PIDS+=("$!")
}
declare -a NODE_PID
for i in 1 2 3; do
    cat >"$WORK/n$i.conf" <<CONF
server_name: n$i
listen: 127.0.0.1:1430$i
http: 127.0.0.1:1830$i
jetstream { store_dir: $WORK/js$i, sync_interval: always }
cluster { name: bench, listen: 127.0.0.1:1630$i, routes: [$routes] }
CONF
    node "$i"
done
cat >"$WORK/replicated.toml" <<CONF
[storage]
engine = "jetstream"
servers = ["127.0.0.1:14301", "127.0.0.1:14302", "127.0.0.1:14303"]
peer_listen = "127.0.0.1:0"
CONF

start() { # port data [config] -> sets LS_PID
    local args=(--listen "127.0.0.1:$1" --data "$2")
    [ -n "${3:-}" ] && args+=(--config "$3")
    RUST_LOG=warn,litescale_shard::storage::replicated::file=info "$BIN" "${args[@]}" >>"$WORK/ls-$1.log" 2>&1 &
    LS_PID=$!
    # Up to 10 minutes: attaching replays the partition's whole log.
    for _ in $(seq 12000); do
        pg_isready -q -h 127.0.0.1 -p "$1" && return
        sleep 0.05
    done
    echo "litescale on port $1 did not start:" >&2
    cat "$WORK/ls-$1.log" >&2
    exit 1
}
start "$LOCAL_PORT" "$WORK/local"
LOCAL_PID=$LS_PID
PIDS+=("$LOCAL_PID")
start "$REPL_PORT" "$WORK/replicated" "$WORK/replicated.toml"
PIDS+=("$LS_PID")

sql() { psql -h 127.0.0.1 -p "$1" -U postgres -d postgres -Atqc "$2"; }
echo "INSERT INTO bench_insert (v) VALUES (1);" >"$WORK/insert.sql"

# pgbench: "tps p50 p99 transactions" (latencies in ms, from its per-transaction log).
run() { # port clients pgbench-args...
    local port=$1 clients=$2
    shift 2
    rm -f "$WORK"/lat.*
    local out
    out=$(pgbench -h 127.0.0.1 -p "$port" -U postgres -n -c "$clients" -j "$((clients < 2 ? 1 : 2))" \
        -T "$SECONDS_EACH" -l --log-prefix="$WORK/lat" "$@" postgres 2>&1) || {
        echo "$out" >&2
        exit 1
    }
    local tps
    tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
    cat "$WORK"/lat.* | awk '{ print $3 }' | sort -n | awk -v tps="$tps" '
        { v[NR] = $1 }
        END {
            p50 = v[int(NR * 0.50) > 0 ? int(NR * 0.50) : 1]
            p99 = v[int(NR * 0.99) > 0 ? int(NR * 0.99) : 1]
            printf "%s %.2f %.2f %d\n", tps, p50 / 1000, p99 / 1000, NR
        }'
}

# The last sequence of the bench database's log, from node 1's monitoring endpoint.
log_last() {
    curl -s "http://127.0.0.1:18301/jsz?streams=true" | python3 -c '
import json, sys
for account in json.load(sys.stdin).get("account_details", []):
    for stream in account.get("stream_detail", []):
        if stream["name"] == "LS_postgres_P0":
            print(stream["state"]["last_seq"])'
}

# Both sides of one workload, a row of the table: replicated commits per log message
# last (group commit: one message carries the commits handed while one is in flight).
row() { # label clients pgbench-args...
    local label=$1 clients=$2
    shift 2
    local before l_tps l_p50 l_p99 r_tps r_p50 r_p99 r_count
    read -r l_tps l_p50 l_p99 _ <<<"$(run "$LOCAL_PORT" "$clients" "$@")"
    before=$(log_last)
    read -r r_tps r_p50 r_p99 r_count <<<"$(run "$REPL_PORT" "$clients" "$@")"
    awk -v label="$label" -v clients="$clients" -v lt="$l_tps" -v l50="$l_p50" -v l99="$l_p99" \
        -v rt="$r_tps" -v r50="$r_p50" -v r99="$r_p99" -v count="$r_count" -v messages="$(($(log_last) - before))" '
        BEGIN {
            printf "%-22s %8s %12.0f %12s %12s %12.0f %12s %12s %6.2fx %9.1f\n", label, clients,
                lt, l50, l99, rt, r50, r99, rt / lt, count / (messages > 0 ? messages : 1)
        }'
}

printf "\n%ss each, TCP loopback, %s cores; replicated: 3 JetStream nodes on this machine, GOMAXPROCS=%s\n\n" \
    "$SECONDS_EACH" "$(nproc)" "${ENGINE_GOMAXPROCS:-$(nproc)}"
printf "%-22s %8s %12s %12s %12s %12s %12s %12s %7s %9s\n" workload clients \
    "local TPS" "local p50" "local p99" "repl TPS" "repl p50" "repl p99" ratio "per msg"
for port in "$LOCAL_PORT" "$REPL_PORT"; do
    sql "$port" "CREATE TABLE bench_insert (id bigserial PRIMARY KEY, v int)"
    pgbench -i -q -s 1 -h 127.0.0.1 -p "$port" -U postgres postgres >/dev/null 2>&1
done
for workload in "autocommit insert" tpcb-like; do
    for clients in 1 8; do
        if [ "$workload" = tpcb-like ]; then args=(-b tpcb-like -M prepared); else args=(-f "$WORK/insert.sql" -M prepared); fi
        row "$workload" "$clients" "${args[@]}"
    done
done
# The same tpcb-like at 8 clients with the engine nodes' CPU yielding to the rest (nice
# 15), as it would on hosts of their own: every write still fsynced on a majority, on this
# machine's one disk. Local is measured again beside it.
# Every thread of each node (renice -p changes one thread; the Go runtime's new threads
# take their creator's).
engine_nice() { # niceness
    for pid in "${NODE_PID[@]}"; do
        for task in /proc/"$pid"/task/*; do renice -n "$1" -p "${task##*/}" >/dev/null || true; done
    done
}
engine_nice 15
row "tpcb-like, engine nice" 8 -b tpcb-like -M prepared
engine_nice 0

now_ms() { date +%s%3N; }
# Milliseconds until an insert on `port` succeeds again, trying every 20 ms.
until_write() { # port start_ms
    for _ in $(seq 3000); do
        if sql "$1" "INSERT INTO bench_insert (v) VALUES (2)" >/dev/null 2>&1; then
            echo $(($(now_ms) - $2))
            return
        fi
        sleep 0.02
    done
    echo "never"
}

echo
# Attach: a partition of N MB on the log; a new litescale with an empty data directory.
for mb in $ATTACH_MB; do
    sql "$REPL_PORT" "DROP TABLE IF EXISTS filler; CREATE TABLE filler (id int PRIMARY KEY, pad text)"
    # About 1 KB per row, 50 MB per transaction.
    for chunk in $(seq 0 50 $((mb - 1))); do
        sql "$REPL_PORT" "INSERT INTO filler SELECT g, repeat(md5(g::text), 30)
            FROM generate_series($((chunk * 1024 + 1)), $(((chunk + (mb - chunk < 50 ? mb - chunk : 50)) * 1024))) g" >/dev/null
    done
    # The partition's file alone (its snapshot file beside it is another copy).
    size=$(du -cm "$WORK/replicated/postgres/0.db" "$WORK/replicated/postgres/0.db-wal" 2>/dev/null | tail -1 | cut -f1)
    kill -9 "$LS_PID"
    wait "$LS_PID" 2>/dev/null || true
    rm -rf "$WORK/replicated"
    : >"$WORK/ls-$REPL_PORT.log"
    started=$(now_ms)
    start "$REPL_PORT" "$WORK/replicated" "$WORK/replicated.toml"
    PIDS+=("$LS_PID")
    sql "$REPL_PORT" "SELECT count(*) FROM filler" >/dev/null
    took=$(($(now_ms) - started))
    # The catch-up's log line: from which log position it replayed (after the snapshot).
    replayed=$(sed 's/\x1b\[[0-9;]*m//g' "$WORK/ls-$REPL_PORT.log" | grep -o 'caught up with its log file=[^ ]*/0.db from=[0-9]* last=[0-9]* commits=[0-9]*' | tail -1 | sed 's/.* from=/from=/')
    echo "attach: a ${size} MB partition (latest snapshot + the log after it: $replayed), process start to first answer: $took ms"
done

# A compute process lost: killed, another started on an empty data directory.
killed=$(now_ms)
kill -9 "$LS_PID"
wait "$LS_PID" 2>/dev/null || true
rm -rf "$WORK/replicated"
start "$REPL_PORT" "$WORK/replicated" "$WORK/replicated.toml"
PIDS+=("$LS_PID")
echo "compute process killed, another started with an empty data directory: writes again after $(until_write "$REPL_PORT" "$killed") ms"

# A compute process lost while a second litescale (its peer) serves the same database:
# the peer takes the partition over.
primary=$LS_PID
start "$PEER_PORT" "$WORK/peer" "$WORK/replicated.toml"
PIDS+=("$LS_PID")
sql "$PEER_PORT" "INSERT INTO bench_insert (v) VALUES (3)" >/dev/null
killed=$(now_ms)
kill -9 "$primary"
wait "$primary" 2>/dev/null || true
echo "compute process killed while a peer serves the database: writes through the peer again after $(until_write "$PEER_PORT" "$killed") ms"
REPL_PORT=$PEER_PORT

# The stream's leader node killed.
leader=$(for i in 1 2 3; do
    curl -s "http://127.0.0.1:1830$i/jsz?streams=true" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for a in d.get("account_details", []):
    for s in a.get("stream_detail", []):
        if s["name"] == "LS_postgres_P0" and s.get("cluster", {}).get("leader") == d.get("server_name", "n'"$i"'"):
            print('"$i"')' 2>/dev/null
done | head -1)
if [ -n "$leader" ]; then
    killed=$(now_ms)
    kill -9 "${NODE_PID[$leader]}"
    echo "engine node n$leader (the stream's leader) killed: writes again after $(until_write "$REPL_PORT" "$killed") ms"
else
    echo "engine node: no stream leader found"
fi
