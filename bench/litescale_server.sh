# Sourced by the single-server bench scripts: starts litescale on 127.0.0.1:$PORT over a
# temporary storage directory ($WORK/data), waits until it answers, and stops it and
# removes $WORK on exit. Uses target/release/litescale (built here) unless BIN names
# another binary. Needs psql.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${BIN:-}" ]; then
    echo "building litescale (release)..." >&2
    (cd "$ROOT" && cargo build --release -q --bin litescale)
    BIN="$ROOT/target/release/litescale"
fi
WORK=$(mktemp -d /tmp/litescale-bench.XXXXXX)
cleanup() {
    [ -n "${LS_PID:-}" ] && kill "$LS_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
"$BIN" --listen "127.0.0.1:$PORT" --data "$WORK/data" >"$WORK/server.log" 2>&1 &
LS_PID=$!
for _ in $(seq 50); do
    psql -h 127.0.0.1 -p "$PORT" -U postgres -Atqc "select 1" >/dev/null 2>&1 && break
    sleep 0.2
done
