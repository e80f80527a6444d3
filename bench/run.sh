#!/usr/bin/env bash
# Builds and runs the benchmarks against a throwaway PostgreSQL cluster. Not part of CI.
#   bash bench/run.sh [streams] [tokens] [token_delay_ms]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh"
tmp=$(mktemp -d /tmp/pxbench.XXXXXX)
trap '"$root/scripts/pg-cluster.sh" stop "$tmp" || true; rm -rf "$tmp"' EXIT
port=$((40000 + RANDOM % 20000))
"$root/scripts/pg-cluster.sh" start "$tmp" "$port" >/dev/null
export PIXELCRAFT_TEST_PG_DSN="host=$tmp port=$port user=postgres dbname=postgres"
"${BUILD_DIR:-$root/build}/bench/chat_stream_bench" "$@"
