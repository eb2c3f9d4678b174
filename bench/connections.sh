#!/usr/bin/env bash
# Memory per idle client connection: the litescale binary's resident memory before and
# after N connections (default 10,000) have started a session, run `SELECT 1` and gone idle.
#
#   bench/connections.sh [connections]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
echo "building litescale and the bench (release)..." >&2
cargo build --release -q --bin litescale --example connections
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
"$TARGET/release/examples/connections" "$TARGET/release/litescale" "${1:-10000}"
