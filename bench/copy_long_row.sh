#!/usr/bin/env bash
# COPY FROM STDIN of one long row (issue 21, item 6): psql sends a long line in many
# CopyData messages, and the time should grow with the row's length, not its square.
#
#   bench/copy_long_row.sh [MiB ...]          (default: 10 20 40)
#
# Uses target/release/litescale (built here) unless BIN names another binary. Needs psql.
set -euo pipefail
PORT=${PORT:-54331}
SIZES=("${@:-10 20 40}")
source "$(dirname "$0")/litescale_server.sh"
PSQL=(psql -h 127.0.0.1 -p "$PORT" -U postgres -Atq -v ON_ERROR_STOP=1)
"${PSQL[@]}" -c "create table long_rows (id int, body text)"
for mib in ${SIZES[*]}; do
    python3 -c "import sys; sys.stdout.write('1\t' + 'x' * ($mib << 20) + '\n')" >"$WORK/row.tsv"
    started=$(date +%s.%N)
    "${PSQL[@]}" -c "\\copy long_rows from '$WORK/row.tsv'"
    ended=$(date +%s.%N)
    printf '%3d MiB row: %.2f s\n' "$mib" "$(echo "$ended - $started" | bc)"
    "${PSQL[@]}" -c "truncate long_rows"
done
