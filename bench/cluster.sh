#!/usr/bin/env bash
# Issue 12: the cluster on this machine, in one run.
#   bash bench/cluster.sh [workflows=300] [clients=16] [turns=3000] [messages=5000]
# Starts one PostgreSQL cluster and an instant fake model (bench/peers/fake_ollama.py), then:
# - three-step workflows per second through one standalone `serve`, and through a gateway with
#   1, 2 and 3 `node` workers (each round on a fresh database; workers share the two cores);
# - chat turns per second (instant model), each client on its own conversation, standalone and
#   through a gateway whose conversations live on 1, 2 or 3 workers (their ids hashed);
# - agent messages per second posted through the gateway to paused executions that workers
#   hold (each forwarded over the cluster link, delivered to the agent's actor and mirrored);
# - the cost of a remote hop: `PATCH .../state` on a paused execution answered by the process
#   itself (standalone) and by a worker behind the gateway (one hop over mutual TLS each way).
# Every node runs with LLM_MAX_CONCURRENCY=64 (the default 4 would measure the throttle).
# Prints a table for bench/RESULTS.md. Needs python3-psycopg2 (installed if missing). Not CI.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
n=${1:-300}
clients=${2:-16}
turns=${3:-3000}
messages=${4:-5000}
/usr/bin/python3 -c 'import psycopg2' 2>/dev/null ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-psycopg2 >/dev/null
bench_setup pxcluster
pids=()
stop_nodes() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  stop_nodes
  kill "${model_pids[@]}" 2>/dev/null || true
  "$root/scripts/pg-cluster.sh" stop "$tmp/pg" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
model_pids=()
trap cleanup EXIT
pg_port=$(free_port)
"$root/scripts/pg-cluster.sh" start "$tmp/pg" "$pg_port" >/dev/null
psql_() { "$pg_bin/psql" -qAt -h "$tmp/pg" -p "$pg_port" -U postgres "$@"; }
dsn() { echo "postgresql://postgres@127.0.0.1:$pg_port/$1"; }
bash "$root/scripts/cluster-certs.sh" "$tmp/certs" gw w1 w2 w3 >/dev/null
fast=$(free_port) slow=$(free_port)
/usr/bin/python3 "$root/bench/peers/fake_ollama.py" "$fast" 0 & model_pids+=($!)
/usr/bin/python3 "$root/bench/peers/fake_ollama.py" "$slow" 600 & model_pids+=($!)
secret=bench-secret-0123456789abcdef0123456789
token=$(/usr/bin/python3 - "$secret" <<'PY'
import base64, hashlib, hmac, json, sys, time
b = lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode()
h = b(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
p = b(json.dumps({"sub": "bench", "aud": "authenticated", "role": "authenticated",
                  "exp": int(time.time()) + 7200}).encode())
print(h + "." + p + "." + b(hmac.new(sys.argv[1].encode(), (h + "." + p).encode(), hashlib.sha256).digest()))
PY
)
# node DB NAME ROLE MODEL_PORT HTTP_PORT [CLUSTER_PORT]
node() {
  local db=$1 name=$2 role=$3 model=$4 http=$5 cport=${6:-}
  local -a env=(PATH="$PATH" HOME="$HOME" DATABASE_URL="$(dsn "$db")" APP_HOST=127.0.0.1
    APP_PORT="$http" SUPABASE_JWT_SECRET=$secret LOG_LEVEL=warn OLLAMA_HOST="http://127.0.0.1:$model"
    RATE_LIMIT_PER_MINUTE=1000000 RATE_LIMIT_BURST=1000000 LLM_MAX_CONCURRENCY=64 NODE_NAME="$name")
  if [ -n "$cport" ]; then
    env+=(CLUSTER_PORT="$cport" CLUSTER_ADVERTISE="127.0.0.1:$cport" WORKER_HEALTH_PORT="$http"
      CLUSTER_TLS_CERT="$tmp/certs/$name.pem" CLUSTER_TLS_KEY="$tmp/certs/$name.key"
      CLUSTER_TLS_CA="$tmp/certs/ca.pem")
  fi
  local -a args=(serve)
  [ "$role" = gateway ] && args=(serve --role gateway)
  [ "$role" = worker ] && args=(node)
  env -i "${env[@]}" "$bin" "${args[@]}" >"$tmp/$db-$name.log" 2>&1 &
  pids+=($!)
  wait_http "http://127.0.0.1:$http/health/live"
}
# cluster DB WORKERS MODEL_PORT: a gateway and WORKERS workers; sets `url` to the gateway's.
# Not called in a subshell: `pids` must reach stop_nodes, or the nodes outlive their round.
cluster() {
  local db=$1 workers=$2 model=$3 gw_http
  gw_http=$(free_port)
  node "$db" gw gateway "$model" "$gw_http" "$(free_port)"
  for i in $(seq 1 "$workers"); do node "$db" "w$i" worker "$model" "$(free_port)" "$(free_port)"; done
  for _ in $(seq 1 100); do
    up=$(curl -fsS "http://127.0.0.1:$gw_http/health" | /usr/bin/python3 -c \
      'import json,sys; print(sum(p["status"]=="up" for p in json.load(sys.stdin)["node"]["peers"]))')
    [ "$up" = "$workers" ] && break
    sleep 0.2
  done
  url="http://127.0.0.1:$gw_http"
}
load() { /usr/bin/python3 "$root/bench/peers/cluster_load.py" "$@"; }

# rounds NAME MODEL_PORT FN: prints `FN URL` against a standalone serve, then against a gateway
# with 1, 2 and 3 workers; each round on its own database (`db` holds its name).
rounds() {
  local name=$1 model=$2 fn=$3 w port
  db=${name}_0
  psql_ -c "CREATE DATABASE $db" postgres
  port=$(free_port)
  node "$db" all all "$model" "$port"
  printf '%-22s %s\n' "standalone serve" "$("$fn" "http://127.0.0.1:$port")"
  stop_nodes
  for w in 1 2 3; do
    db=${name}_$w
    psql_ -c "CREATE DATABASE $db" postgres
    cluster "$db" "$w" "$model"
    printf '%-22s %s\n' "gateway + $w worker(s)" "$("$fn" "$url")"
    stop_nodes
  done
}
start_paused() { # URL [AGENTS_JSON] -> id of a paused execution (its model never answers)
  local id agents=${2:-'["chat"]'}
  id=$(curl -fsS -XPOST "$1/api/agents/workflows/execute" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' \
    -d '{"workflow_type":"sequential","participating_agents":'"$agents"',"input_data":{"message":"x"}}' |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["workflow_id"])')
  for _ in $(seq 1 50); do
    s=$(curl -fsS -XPATCH "$1/api/agents/workflows/$id/state" -H "Authorization: Bearer $token" \
      -H 'Content-Type: application/json' -d '{"action":"pause"}' -o /dev/null -w '%{http_code}' || true)
    [ "$s" = 200 ] && break
    sleep 0.1
  done
  echo "$id"
}
paused_ids() { # URL -> six paused executions (chat, brand_design), comma-separated
  local ids=() i
  for i in 1 2 3 4 5 6; do ids+=("$(start_paused "$1" '["chat","brand_design"]')"); done
  (IFS=,; echo "${ids[*]}")
}
workflows_round() { load "$1" "$token" "$(dsn "$db")" "$n" "$clients"; }
chat_round() { load chat "$1" "$turns" "$clients"; }
messages_round() { load msgs "$1" "$token" "$(paused_ids "$1")" "$messages" "$clients"; }

echo "== workflows per second ($n three-step workflows, $clients clients, instant model)"
rounds wf "$fast" workflows_round
echo "== chat turns per second ($turns turns, $clients clients on a conversation each, instant model)"
rounds chat "$fast" chat_round
echo "== agent messages per second ($messages messages over 6 paused executions, $clients clients)"
rounds msg "$slow" messages_round

echo "== a remote hop: PATCH state (pause) on a paused execution, 2000 sequential requests"
psql_ -c "CREATE DATABASE hop_local" postgres
port=$(free_port)
node hop_local all all "$slow" "$port"
id=$(start_paused "http://127.0.0.1:$port")
printf '%-22s %s\n' "in the process" "$(load hop "http://127.0.0.1:$port" "$token" "$id" 2000)"
stop_nodes
psql_ -c "CREATE DATABASE hop_remote" postgres
cluster hop_remote 1 "$slow"
id=$(start_paused "$url")
printf '%-22s %s\n' "gateway -> worker" "$(load hop "$url" "$token" "$id" 2000)"
