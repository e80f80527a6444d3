#!/usr/bin/env bash
# Issue 11: pixelcraft next to its peers, in one run on one machine, with wrk.
#   bash bench/peers.sh [seconds_per_round=5] [rounds=2]
# Starts one PostgreSQL 15 cluster (fsync on), nginx serving a static copy of the catalogue, the
# FastAPI + uvicorn + psycopg2 peer (bench/peers/peer_fastapi.py: the seed's stack doing the same
# two routes), and pixelcraft (this build; BASELINE_BIN=path adds an older build next to it).
# Runs `wrk -t2 -c50` rounds against each and pgbench -c4 with a single-row insert, then prints
# the numbers and the issue's ratios. Installs wrk, nginx-light and the Python peer's Debian
# packages if they are missing. Not part of CI.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
secs=${1:-5}
rounds=${2:-2}
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
/usr/bin/python3 -c 'import fastapi, uvicorn, psycopg2' 2>/dev/null ||
  need+=(python3-fastapi python3-uvicorn python3-psycopg2)
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >/dev/null
  service nginx stop >/dev/null 2>&1 || true # the package starts one on :80; ours is our own
fi
bench_setup pxpeers
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$root/scripts/pg-cluster.sh" stop "$tmp/pg" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

pg_port=$(free_port)
"$root/scripts/pg-cluster.sh" start "$tmp/pg" "$pg_port" >/dev/null
psql_() { "$pg_bin/psql" -q -h "$tmp/pg" -p "$pg_port" -U postgres "$@"; }
for db in pixelcraft baseline peer; do psql_ -c "CREATE DATABASE $db" postgres; done
dsn() { echo "postgresql://postgres@127.0.0.1:$pg_port/$1"; }

start_pixelcraft() { # start_pixelcraft BINARY DB PORT
  env -i PATH="$PATH" HOME="$HOME" DATABASE_URL="$(dsn "$2")" APP_HOST=127.0.0.1 APP_PORT="$3" \
    SUPABASE_JWT_SECRET=bench-secret-0123456789abcdef0123456789 LOG_LEVEL=warn \
    RATE_LIMIT_PER_MINUTE=1000000 RATE_LIMIT_BURST=1000000 DB_POOL_SIZE=8 \
    "$1" serve >"$tmp/$2.log" 2>&1 &
  pids+=($!)
  wait_http "http://127.0.0.1:$3/health/live"
}

px_port=$(free_port)
start_pixelcraft "$bin" pixelcraft "$px_port"
base_port=
if [ -n "${BASELINE_BIN:-}" ]; then
  base_port=$(free_port)
  start_pixelcraft "$BASELINE_BIN" baseline "$base_port"
fi

# nginx: the catalogue as pixelcraft serves it, as a static file.
mkdir -p "$tmp/www/api"
curl -fsS "http://127.0.0.1:$px_port/api/agents" >"$tmp/www/api/agents"
ng_port=$(free_port)
cat >"$tmp/nginx.conf" <<EOF
worker_processes 2;
pid $tmp/nginx.pid;
error_log $tmp/nginx.err;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  server { listen 127.0.0.1:$ng_port; root $tmp/www; }
}
EOF
nginx -c "$tmp/nginx.conf" -g 'daemon off;' &
pids+=($!)
wait_http "http://127.0.0.1:$ng_port/api/agents"

# The FastAPI peer (one uvicorn worker, as the seed ran it).
fa_port=$(free_port)
PEER_DSN="$(dsn peer)" PEER_AGENTS_JSON="$tmp/www/api/agents" \
  /usr/bin/python3 -m uvicorn --app-dir "$root/bench/peers" peer_fastapi:app \
  --host 127.0.0.1 --port "$fa_port" --log-level warning >"$tmp/fastapi.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$fa_port/api/agents"

# pgbench: single-row inserts, 4 clients, into a table shaped like the leads.
psql_ -c "CREATE TABLE pgbench_leads (id bigserial PRIMARY KEY, name text, email text,
          message text, source text, created_at timestamptz DEFAULT now())" peer

rps() { # rps URL [lua] -> requests/s (non-2xx answers are counted and reported)
  local out
  out=$(wrk -t2 -c50 -d"${secs}s" ${2:+-s "$2"} "$1")
  if grep -q "Non-2xx" <<<"$out"; then
    echo "$1: $(grep Non-2xx <<<"$out" | tr -s ' ') of $(awk '/requests in/ {print $1}' <<<"$out")" >&2
  fi
  awk '/Requests\/sec/ {print $2}' <<<"$out"
}
tps() {
  "$pg_bin/pgbench" -n -c4 -j2 -T"$secs" -f "$root/bench/peers/insert.sql" \
    -h "$tmp/pg" -p "$pg_port" -U postgres peer 2>/dev/null | awk '/^tps/ {print $3; exit}'
}
lua="$root/bench/peers/lead_post.lua"
declare -A sum
add() { sum[$1]=$(python3 -c "print(${sum[$1]:-0} + $2)"); }
for r in $(seq 1 "$rounds"); do
  add nginx "$(rps "http://127.0.0.1:$ng_port/api/agents")"
  add live "$(rps "http://127.0.0.1:$px_port/health/live")"
  add agents "$(rps "http://127.0.0.1:$px_port/api/agents")"
  add fa_agents "$(rps "http://127.0.0.1:$fa_port/api/agents")"
  add leads "$(rps "http://127.0.0.1:$px_port/api/leads/submit" "$lua")"
  add fa_leads "$(rps "http://127.0.0.1:$fa_port/api/leads/submit" "$lua")"
  add pgbench "$(tps)"
  if [ -n "$base_port" ]; then
    add b_live "$(rps "http://127.0.0.1:$base_port/health/live")"
    add b_agents "$(rps "http://127.0.0.1:$base_port/api/agents")"
    add b_leads "$(rps "http://127.0.0.1:$base_port/api/leads/submit" "$lua")"
  fi
done
avg() { python3 -c "print(round(${sum[$1]:-0} / $rounds))"; }
ratio() { python3 -c "a, b = ${sum[$1]:-0}, ${sum[$2]:-0}; print(round(a / b, 2) if b else 'n/a')"; }
echo "| what | requests/s (mean of $rounds rounds of ${secs} s, wrk -t2 -c50) |"
echo "|---|---|"
echo "| nginx static catalogue | $(avg nginx) |"
echo "| pixelcraft GET /health/live | $(avg live) |"
echo "| pixelcraft GET /api/agents | $(avg agents) |"
echo "| FastAPI GET /api/agents | $(avg fa_agents) |"
echo "| pixelcraft POST /api/leads/submit | $(avg leads) |"
echo "| FastAPI POST /api/leads/submit | $(avg fa_leads) |"
echo "| pgbench -c4 single-row insert (tps) | $(avg pgbench) |"
if [ -n "$base_port" ]; then
  echo "| baseline GET /health/live | $(avg b_live) |"
  echo "| baseline GET /api/agents | $(avg b_agents) |"
  echo "| baseline POST /api/leads/submit | $(avg b_leads) |"
fi
echo
echo "| ratio | value | target |"
echo "|---|---|---|"
echo "| leads submit / pgbench -c4 | $(ratio leads pgbench) | >= 2 |"
echo "| leads submit / FastAPI | $(ratio leads fa_leads) | |"
echo "| GET /api/agents / GET /health/live | $(ratio agents live) | >= 0.5 |"
echo "| GET /health/live / nginx static | $(ratio live nginx) | >= 0.8 |"
[ -z "$base_port" ] || echo "| leads submit / baseline | $(ratio leads b_leads) | |"
echo
echo "$(date -u +%F) commit $(git -C "$root" rev-parse --short HEAD)"
stored=$(psql_ -Atc "SELECT count(*) FROM leads" pixelcraft)
echo "leads stored by pixelcraft: $stored"
