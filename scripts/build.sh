#!/usr/bin/env bash
# Configures (once) and builds PixelCraft with Ninja and ccache. BUILD_DIR (default build),
# BUILD_TYPE (default RelWithDebInfo); extra CMake options in CMAKE_ARGS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
type=${BUILD_TYPE:-RelWithDebInfo}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="$type" ${CMAKE_ARGS:-}
fi
# Two cores; a RESTinio TU peaks near 1.2 GB, so two jobs fit comfortably.
cmake --build "$build" -j "${BUILD_JOBS:-2}"
