#!/usr/bin/env bash
# Memory per idle client connection: the litescale binary's resident memory before and
# after N connections (default 10,000) have started a session, run `SELECT 1` and gone idle.
#
#   bench/connections.sh [connections]
exec "$(dirname "$0")/example.sh" connections "${1:-10000}"
