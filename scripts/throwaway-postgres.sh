#!/usr/bin/env bash
# Starts (or stops) a throwaway PostgreSQL cluster for tests, on 127.0.0.1.
#   scripts/throwaway-postgres.sh start   prints the URL to use as KEYWARD_TEST_DATABASE_URL
#   scripts/throwaway-postgres.sh stop
#   scripts/throwaway-postgres.sh resume  starts a stopped cluster again, data kept (outage tests)
# Uses Debian's postgresql package; initdb refuses root, so the cluster runs as `postgres`.
set -euo pipefail
dir="${KEYWARD_PG_DIR:-/tmp/keyward-pg}"
port="${KEYWARD_PG_PORT:-54329}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -n "$bin" ] || { echo "PostgreSQL is not installed (apt-get install -y postgresql)" >&2; exit 1; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# fsync off: a test cluster trades durability for speed. Autovacuum off: each
# suite makes a database of its own, and the launcher visits every database
# once a minute, forking a worker each time: with the ~450 databases a few
# runs leave, that was a third of a core, all run long.
run_server() {
  as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c fsync=off -c autovacuum=off -c max_connections=300" start >/dev/null
}

case "${1:-start}" in
  start)
    if ! as_postgres "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
      rm -rf "$dir" && mkdir -p "$dir"
      [ "$(id -u)" = 0 ] && chown postgres "$dir"
      as_postgres "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1
      run_server
    fi
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  resume)
    run_server
    ;;
  stop)
    as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop|resume" >&2; exit 2 ;;
esac
