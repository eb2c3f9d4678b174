#!/usr/bin/env bash
# Smoke test of the compose stack: up, psql and a short pgbench through it, SIGKILL the
# primary worker of partition 0, check that writes go on (the proxy promotes its replica)
# and that every acknowledged row is still there; then the same for the proxy itself.
# Where no Docker engine runs it says so and exits 0 without testing anything.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
    echo "smoke: no Docker engine on this machine; nothing was tested"
    exit 0
fi
compose() { docker compose -p litescale-smoke "$@"; }
trap 'compose down -v >/dev/null 2>&1 || true' EXIT
compose up -d --build --wait
export PGHOST=127.0.0.1 PGPORT=5480 PGUSER=postgres PGDATABASE=postgres
psql -v ON_ERROR_STOP=1 -c "CREATE TABLE smoke (id INT PRIMARY KEY)" \
     -c "INSERT INTO smoke SELECT x FROM generate_series(1, 1000) AS g(x)"
pgbench -i -s 1 -q
pgbench -c 4 -j 2 -T 5 | grep -E "^(tps|number of failed)"
# The primary of partition 0, by the address the admin console lists ("worker-0a:7000").
primary=$(psql -At -d litescale -c "SHOW WORKERS" | awk -F'|' '$3 == "0" && $4 == "primary" {print $5}')
service=${primary%%:*}
[ -n "$service" ] || { echo "smoke: no primary listed for partition 0"; exit 1; }
docker kill -s KILL "$(compose ps -q "$service")"
for i in $(seq 1 50); do
    psql -q -c "INSERT INTO smoke VALUES (1001)" 2>/dev/null && break
    [ "$i" = 50 ] && { echo "smoke: no write succeeded after killing $service"; exit 1; }
    sleep 0.2
done
count=$(psql -At -c "SELECT count(*) FROM smoke")
[ "$count" = 1001 ] || { echo "smoke: $count of 1001 acknowledged rows after killing $service"; exit 1; }
compose up -d --wait "$service"
docker kill -s KILL "$(compose ps -q proxy)"
compose up -d --wait proxy
count=$(psql -At -c "SELECT count(*) FROM smoke")
[ "$count" = 1001 ] || { echo "smoke: $count of 1001 acknowledged rows after killing the proxy"; exit 1; }
psql -v ON_ERROR_STOP=1 -c "INSERT INTO smoke VALUES (1002)"
echo "smoke: ok (writes go on after SIGKILL of a primary worker and of the proxy; nothing acknowledged was lost)"
