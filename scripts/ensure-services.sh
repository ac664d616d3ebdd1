#!/usr/bin/env bash
# PostgreSQL and Redis on loopback, as the tests expect them; start them if they are installed but
# stopped. Fails with a message naming what is missing.
set -uo pipefail
pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up && command -v pg_ctlcluster >/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
if ! redis_up && command -v redis-server >/dev/null; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null || true
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
fi
status=0
pg_up || { echo "PostgreSQL is not reachable on 127.0.0.1:5432 (install postgresql, trust auth for 127.0.0.1)" >&2; status=1; }
redis_up || { echo "Redis is not reachable on 127.0.0.1:6379 (install redis-server)" >&2; status=1; }
exit $status
