#!/usr/bin/env bash
# Builds and runs the benchmarks against a throwaway PostgreSQL cluster. Not part of CI.
#   bash bench/run.sh chat [streams] [tokens] [token_delay_ms]
#   bash bench/run.sh workflow [workflows] [messages]
#   bash bench/run.sh messages [messages] [window]
#   bash bench/run.sh http [connections] [seconds_per_phase] [rounds]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh"
tmp=$(mktemp -d /tmp/pxbench.XXXXXX)
trap '"$root/scripts/pg-cluster.sh" stop "$tmp" || true; rm -rf "$tmp"' EXIT
port=$((40000 + RANDOM % 20000))
"$root/scripts/pg-cluster.sh" start "$tmp" "$port" >/dev/null
export PIXELCRAFT_TEST_PG_DSN="host=$tmp port=$port user=postgres dbname=postgres"
which=${1:-chat}
shift || true
case "$which" in
  chat) "${BUILD_DIR:-$root/build}/bench/chat_stream_bench" "$@" ;;
  workflow) "${BUILD_DIR:-$root/build}/bench/workflow_bench" "$@" ;;
  messages) "${BUILD_DIR:-$root/build}/bench/agent_message_bench" "$@" ;;
  http) "${BUILD_DIR:-$root/build}/bench/http_rps_bench" "$@" ;;
  *) echo "usage: bench/run.sh chat|workflow|messages|http [args]" >&2; exit 2 ;;
esac
