#!/usr/bin/env bash
# One command that builds and runs every test: installs packages, builds with tests, starts a
# throwaway PostgreSQL cluster in a temp dir (as `postgres`), runs CTest, then builds the same
# suite with ASan+UBSan (build-asan) and runs it again, then runs each libFuzzer target briefly
# (scripts/fuzz.sh), and removes the cluster. Extra arguments go to both CTest runs.
# Developers may skip stages with PIXELCRAFT_SKIP_ASAN=1 / PIXELCRAFT_SKIP_FUZZ=1; CI (CI=true)
# always runs everything. Exits non-zero when any stage fails (all stages still run).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
if [ "${CI:-}" = "true" ]; then
  export CMAKE_ARGS="${CMAKE_ARGS:-} -DPIXELCRAFT_WERROR=ON"
  if [ -n "${PIXELCRAFT_SKIP_ASAN:-}${PIXELCRAFT_SKIP_FUZZ:-}" ]; then
    echo "test: CI=true runs every stage; PIXELCRAFT_SKIP_* ignored" >&2
  fi
  unset PIXELCRAFT_SKIP_ASAN PIXELCRAFT_SKIP_FUZZ
fi
"$root/scripts/check-includes.sh"
"$root/scripts/check-format.sh"
"$root/scripts/build.sh"
# The page tests' tools (Swagger UI, puppeteer-core, redocly); the page tests fail without them.
"$root/scripts/web-deps.sh" --dev || echo "test: npm packages missing; the page tests will fail" >&2
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
failed=()
stage() { # stage NAME CMD...: runs and times one stage, remembering a failure
  local name=$1 start=$SECONDS
  shift
  echo "test: == $name"
  if "$@"; then
    echo "test: == $name passed in $((SECONDS - start)) s"
  else
    echo "test: == $name FAILED after $((SECONDS - start)) s" >&2
    failed+=("$name")
  fi
}
run_ctest() { # run_ctest DIR TIMEOUT ARGS...
  local dir=$1 timeout=$2
  shift 2
  (cd "$dir" && ctest --output-on-failure --timeout "$timeout" -j "${TEST_JOBS:-2}" "$@")
}
# The page tests (headless Chromium, redocly) run here against the main build; the ASan
# build has no npm packages of its own, so they skip there.
export PIXELCRAFT_REQUIRE_BROWSER=1
stage "tests" run_ctest "${BUILD_DIR:-$root/build}" 600 "$@"
unset PIXELCRAFT_REQUIRE_BROWSER

if [ -z "${PIXELCRAFT_SKIP_ASAN:-}" ]; then
  # A second build of everything with -fsanitize=address,undefined (gcc, Debug at -O0 with line
  # tables only: the fastest build that still gives file:line stacks). Warnings are the main
  # build's job, so no -Werror here. Any report fails the test that caused it: ASan and LSan
  # exit non-zero, UBSan halts; tests/support/server_process passes these options on to the
  # server and fails the test on a report in the server's stderr.
  asan_build=${ASAN_BUILD_DIR:-$root/build-asan}
  stage "asan build" env BUILD_DIR="$asan_build" BUILD_TYPE=Debug \
    CMAKE_ARGS="-DPIXELCRAFT_SANITIZERS=ON -DCMAKE_CXX_FLAGS_DEBUG=-g1" "$root/scripts/build.sh"
  export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=0:abort_on_error=0"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$root/tests/ubsan.supp"
  export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp"
  stage "asan tests" run_ctest "$asan_build" 900 "$@"
  unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
fi

if [ -z "${PIXELCRAFT_SKIP_FUZZ:-}" ]; then
  stage "fuzz" "$root/scripts/fuzz.sh" "${FUZZ_SECONDS:-10}"
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "test: failed stages: ${failed[*]}" >&2
  exit 1
fi
echo "test: every stage passed"
