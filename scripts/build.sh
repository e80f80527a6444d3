#!/usr/bin/env bash
# Configures (once) and builds PixelCraft with Ninja and ccache. BUILD_DIR (default build),
# BUILD_TYPE (default RelWithDebInfo); extra CMake options in CMAKE_ARGS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
type=${BUILD_TYPE:-RelWithDebInfo}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
# Paths relative to the checkout, so a clone elsewhere (CI) hits what this one compiled.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="$type" ${CMAKE_ARGS:-}
fi
# Two cores; a RESTinio TU peaks near 1.2 GB, so two jobs fit comfortably.
cmake --build "$build" -j "${BUILD_JOBS:-2}"
