#!/usr/bin/env bash
# Hosts on one machine for replicated-storage tests and benchmarks: network namespaces
# joined by a bridge that lives in a namespace of its own, with no route out.
#
#   hosts.sh up NAME SUBNET COUNT   namespaces NAME-net (the bridge) and NAME-h1..hCOUNT,
#                                   host i at SUBNET.(10+i)/24, its link vNAMEi on the bridge
#   hosts.sh down NAME              removes them (safe to run twice, or after a failed up)
#   hosts.sh link NAME I up|down    a host's link to the bridge, as a cut cable
#
# NAME must be short (interface names hold 15 characters). Needs root and iproute2.
set -euo pipefail

command=${1:?usage: hosts.sh up|down|link NAME ...}
name=${2:?NAME}

case "$command" in
up)
    subnet=${3:?SUBNET (e.g. 10.231.7)}
    count=${4:?COUNT}
    ip netns add "$name-net"
    ip -n "$name-net" link add br0 type bridge
    ip -n "$name-net" link set br0 up
    for i in $(seq 1 "$count"); do
        ip netns add "$name-h$i"
        ip link add "v$name$i" type veth peer name eth0 netns "$name-h$i"
        ip link set "v$name$i" netns "$name-net"
        ip -n "$name-net" link set "v$name$i" master br0
        ip -n "$name-net" link set "v$name$i" up
        ip -n "$name-h$i" link set lo up
        ip -n "$name-h$i" addr add "$subnet.$((10 + i))/24" dev eth0
        ip -n "$name-h$i" link set eth0 up
    done
    ;;
down)
    for ns in $(ip netns list | awk '{print $1}' | grep -E "^$name-(net|h[0-9]+)$" || true); do
        # Whatever still runs in a host goes with it.
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
        ip netns del "$ns"
    done
    ;;
link)
    host=${3:?I}
    state=${4:?up|down}
    ip -n "$name-net" link set "v$name$host" "$state"
    ;;
*)
    echo "usage: hosts.sh up|down|link NAME ..." >&2
    exit 2
    ;;
esac
