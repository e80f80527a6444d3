#!/usr/bin/env bash
# Installs the pages' npm packages (http/web/package.json, locked) into <build>/web, where the
# server looks for them (PIXELCRAFT_WEB_DIR): swagger-ui-dist for /docs. With --dev also the
# tools of the page tests: puppeteer-core (drives Debian's chromium; downloads no browser) and
# @redocly/cli (lints /openapi.json). Idempotent: skips npm when this lock is already installed.
# Install scripts never run (swagger-ui-dist would report the install to a third party).
# BUILD_DIR as in build.sh. Exits non-zero when npm is missing or the install fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${BUILD_DIR:-$root/build}/web
mode=prod
if [ "${1:-}" = "--dev" ]; then mode=dev; fi
if ! command -v npm >/dev/null; then
  echo "web-deps: npm not found; /docs will serve its built-in reader" >&2
  exit 1
fi
mkdir -p "$dest"
lock_sum=$(cat "$root/http/web/package.json" "$root/http/web/package-lock.json" | sha256sum | cut -c1-16)
stamp="$dest/.installed-$lock_sum"
if [ -f "$stamp-dev" ] || { [ "$mode" = prod ] && [ -f "$stamp-prod" ]; }; then exit 0; fi
cp "$root/http/web/package.json" "$root/http/web/package-lock.json" "$dest/"
rm -f "$dest"/.installed-*
omit=()
if [ "$mode" = prod ]; then omit=(--omit=dev); fi
(cd "$dest" && SCARF_ANALYTICS=false npm ci --ignore-scripts --no-audit --no-fund \
  --loglevel=error "${omit[@]}")
touch "$stamp-$mode"
echo "web-deps: installed $mode packages into $dest"
