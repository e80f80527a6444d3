#!/usr/bin/env bash
# Builds and runs the benchmarks against a throwaway PostgreSQL cluster. Not part of CI.
#   bash bench/run.sh chat [streams] [tokens] [token_delay_ms]
#   bash bench/run.sh workflow [workflows] [messages]
#   bash bench/run.sh messages [messages] [window]
#   bash bench/run.sh idle [conversations] [window] [kept|passivating]
#   bash bench/run.sh http [connections] [seconds_per_phase] [rounds]
#   bash bench/run.sh fanout [monitors] [client_threads] [tokens_per_step]
#   bash bench/run.sh journal [workflows] [rounds]   (baseline: BASELINE_COMMIT, default the
#     commit before the step journal, built once into build-baseline/ from a git worktree)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh"
if [ "${1:-}" = journal ]; then
  base_commit=${BASELINE_COMMIT:-610a6a3}
  base_src=$root/build-baseline/src
  if [ ! -x "$root/build-baseline/bin/pixelcraft" ]; then
    rm -rf "$base_src" && git -C "$root" worktree prune
    git -C "$root" worktree add --detach "$base_src" "$base_commit"
    cmake -S "$base_src" -B "$root/build-baseline/bin" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
    cmake --build "$root/build-baseline/bin" --target pixelcraft -j "${BUILD_JOBS:-2}"
    cp "$root/build-baseline/bin/app/pixelcraft" "$root/build-baseline/bin/pixelcraft"
  fi
fi
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
  idle) "${BUILD_DIR:-$root/build}/bench/idle_agents_bench" "$@" ;;
  http) "${BUILD_DIR:-$root/build}/bench/http_rps_bench" "$@" ;;
  fanout) "${BUILD_DIR:-$root/build}/bench/ws_fanout_bench" "$@" ;;
  journal) "${BUILD_DIR:-$root/build}/bench/journal_bench" "$root/build-baseline/bin/pixelcraft" "$@" ;;
  *) echo "usage: bench/run.sh chat|workflow|messages|idle|http|fanout|journal [args]" >&2; exit 2 ;;
esac
