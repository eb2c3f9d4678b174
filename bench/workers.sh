#!/usr/bin/env bash
# Worker-process numbers: failover time (SIGKILL of the primary to the first successful
# write through the proxy, p50/p99 over N kills), replica attach time (ADD REPLICA until
# it serves), cold start after scale to zero, and point-select latency through a remote
# replica worker against the in-process default. One host, loopback TCP.
#
#   bench/workers.sh [kills]      (default 50)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
echo "building litescale and the bench (release)..." >&2
cargo build --release -q --bin litescale --example workers
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
"$TARGET/release/examples/workers" "$TARGET/release/litescale" "${1:-50}"
