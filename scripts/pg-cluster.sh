#!/usr/bin/env bash
# Starts (or reuses) a PostgreSQL 15 cluster in a folder, as the `postgres` system user
# (PostgreSQL refuses to run as root). Prints the libpq DSN on stdout.
#   pg-cluster.sh start DIR PORT   # idempotent: an already running cluster is reused
#   pg-cluster.sh stop DIR
# The cluster listens on 127.0.0.1:PORT and on a unix socket in DIR, with trust auth: it is a
# local development or test cluster, never a production one.
set -euo pipefail
cmd=${1:?usage: pg-cluster.sh start|stop DIR [PORT]}
dir=$(realpath -m "${2:?DIR}")
port=${3:-54320}
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$pgbin/pg_ctl" ] || { echo "pg-cluster: PostgreSQL server binaries not found" >&2; exit 1; }

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The postgres user must reach DIR; a checkout under /root (mode 700) is out of its reach, so the
# cluster then lives under /var/lib/pixelcraft-pg and DIR becomes a symlink to it.
if [ "$cmd" = start ] && [ "$(id -u)" -eq 0 ] && [ ! -e "$dir" ]; then
  mkdir -p "$(dirname "$dir")"
  if ! runuser -u postgres -- test -x "$(dirname "$dir")"; then
    alt=/var/lib/pixelcraft-pg/$(printf '%s' "$dir" | md5sum | cut -c1-12)
    mkdir -p "$alt" && ln -s "$alt" "$dir"
    echo "pg-cluster: $dir is not reachable by postgres; data lives in $alt" >&2
  fi
fi
dir=$(realpath -m "$dir")
# Unix socket paths are limited to ~107 bytes: keep one only for short folders (TCP always works).
sockdir=$dir
[ ${#dir} -gt 80 ] && sockdir=""

case "$cmd" in
  start)
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_pg "$pgbin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null
    fi
    if as_pg "$pgbin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      port=$(sed -n 4p "$dir/data/postmaster.pid")  # reuse: report the port it really uses
    else
      as_pg "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 start \
        -o "-k '$sockdir' -c listen_addresses=127.0.0.1 -c port=$port -c max_connections=200" >/dev/null
    fi
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    if [ -f "$dir/data/PG_VERSION" ]; then
      as_pg "$pgbin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
  *) echo "usage: pg-cluster.sh start|stop DIR [PORT]" >&2; exit 2 ;;
esac
