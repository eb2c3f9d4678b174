#!/usr/bin/env bash
# Worker-process numbers: failover time (SIGKILL of the primary to the first successful
# write through the proxy, p50/p99 over N kills, with a concurrent writer's ledger),
# replica attach time (ADD REPLICA until it serves), cold start after scale to zero, and
# point-select latency through a remote replica worker against the in-process default.
#
#   bench/workers.sh [kills]      (default 50)
exec "$(dirname "$0")/example.sh" workers "${1:-50}"
