#!/usr/bin/env bash
# Builds litescale and one bench program (bench/<name>.rs, a cargo example) in release
# mode and runs it against the binary:  bench/example.sh <name> [args...]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
NAME=$1
shift
echo "building litescale and the $NAME bench (release)..." >&2
cargo build --release -q --bin litescale --example "$NAME"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
"$TARGET/release/examples/$NAME" "$TARGET/release/litescale" "$@"
