#!/usr/bin/env bash
# One command that builds and runs every test: installs packages, builds with tests, starts a
# throwaway PostgreSQL cluster in a temp dir (as `postgres`), runs CTest, removes the cluster.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
if [ "${CI:-}" = "true" ]; then
  export CMAKE_ARGS="${CMAKE_ARGS:-} -DPIXELCRAFT_WERROR=ON"
fi
"$root/scripts/check-includes.sh"
"$root/scripts/build.sh"
tmp=$(mktemp -d /tmp/pxpg.XXXXXX)
port=$((40000 + RANDOM % 20000))
cleanup() {
  "$root/scripts/pg-cluster.sh" stop "$tmp" || true
  rm -rf "$tmp"
}
trap cleanup EXIT
"$root/scripts/pg-cluster.sh" start "$tmp" "$port" >/dev/null
export PIXELCRAFT_TEST_PG_DSN="host=$tmp port=$port user=postgres dbname=postgres"
export PIXELCRAFT_TEST_PG_DIR="$tmp"
export PIXELCRAFT_TEST_PG_PORT="$port"
export PIXELCRAFT_REQUIRE_PG=1
cd "${BUILD_DIR:-$root/build}"
ctest --output-on-failure --timeout 600 -j "${TEST_JOBS:-2}" "$@"
