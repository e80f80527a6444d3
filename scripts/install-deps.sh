#!/usr/bin/env bash
# Installs the Debian 12 packages PixelCraft builds, tests and runs with (STACK.md §1), and
# clang 14 with its sanitizer and libFuzzer runtimes for scripts/fuzz.sh (STACK.md §11), and
# Chromium with Node.js and npm for the pages: npm installs Swagger UI (scripts/web-deps.sh) and
# the browser tests drive Chromium. A Node.js that is already there (with its npm) is kept.
# Idempotent: skips apt entirely when every package is already installed.
set -euo pipefail
pkgs=(build-essential cmake ninja-build ccache pkg-config libcaf-dev librestinio-dev libasio-dev
  libfmt-dev libhttp-parser-dev libpqxx-dev libpq-dev nlohmann-json3-dev libcurl4-openssl-dev
  libssl-dev libgtest-dev libgmock-dev postgresql curl clang-14 libclang-rt-14-dev clang-format-14
  chromium)
if ! command -v npm >/dev/null; then pkgs+=(nodejs npm); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run as root or install them" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
