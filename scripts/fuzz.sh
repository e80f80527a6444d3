#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang++-14, ASan+UBSan) in FUZZ_BUILD_DIR
# (default build-fuzz) and runs each for SECONDS (default 10) from its seed corpus
# tests/fuzz/corpus/<target>; 0 runs only the corpus (regressions). New inputs go to a temp dir,
# not the repository. Exits non-zero when any target crashes, leaks, times out or hits a sanitizer
# report; the crashing input is kept under FUZZ_BUILD_DIR/artifacts/<target>/.
# Usage: scripts/fuzz.sh [seconds] [target...]
# FUZZ_RUNS=N runs each target for N executions instead of SECONDS (the long run of
# bench/RESULTS.md: FUZZ_RUNS=10000000 scripts/fuzz.sh 1); FUZZ_CORPUS_OUT=DIR keeps the corpus
# each target grew in DIR/<target> (for minimising into the seed corpus by hand).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-10}
shift || true
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
# Paths relative to the checkout, so a clone elsewhere (CI) hits what this one compiled.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root/tests/fuzz" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
fi
cmake --build "$build" -j "${BUILD_JOBS:-2}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  read -r -a targets < <(tr ';' ' ' <"$build/targets.txt"; echo)
fi
# UBSan reports abort (compiled with -fno-sanitize-recover); ASan's leak check stays on.
export ASAN_OPTIONS=${FUZZ_ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=()
for t in "${targets[@]}"; do
  seeds="$root/tests/fuzz/corpus/$t"
  if [ -n "${FUZZ_CORPUS_OUT:-}" ]; then
    work="$FUZZ_CORPUS_OUT/$t"
    mkdir -p "$work"
  else
    work=$(mktemp -d /tmp/pxfuzz.XXXXXX)
  fi
  art="$build/artifacts/$t"
  mkdir -p "$art"
  if [ -n "${FUZZ_RUNS:-}" ]; then
    mode=(-runs="$FUZZ_RUNS")
  elif [ "$secs" -eq 0 ]; then
    mode=(-runs=0)
  else
    mode=(-max_total_time="$secs")
  fi
  echo "fuzz: $t (${mode[*]})"
  if "$build/$t" "${mode[@]}" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
      -print_final_stats=1 -artifact_prefix="$art/" "$work" "$seeds" >"$build/$t.log" 2>&1; then
    grep -E "^stat::number_of_executed_units|^Done" "$build/$t.log" | tr '\n' ' ' || true
    echo
  else
    failed+=("$t")
    echo "fuzz: $t FAILED; its log ($build/$t.log) ends:" >&2
    tail -n 60 "$build/$t.log" >&2
    ls -1 "$art" >&2 || true
  fi
  [ -n "${FUZZ_CORPUS_OUT:-}" ] || rm -rf "$work"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failures in: ${failed[*]} (inputs in $build/artifacts/)" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets clean"
