#!/usr/bin/env bash
# Lints the OpenAPI document the server serves (http/assets/openapi.json) with redocly's
# recommended rules: any error or warning fails. Exit 77 (skipped) without the npm packages
# (scripts/web-deps.sh --dev), unless PIXELCRAFT_REQUIRE_BROWSER is set.
set -euo pipefail
web=$(cd "$1" 2>/dev/null && pwd || echo "$1") doc=$2
redocly=$web/node_modules/.bin/redocly
if [ ! -x "$redocly" ] || ! command -v node >/dev/null; then
  echo "redocly not installed in $web (scripts/web-deps.sh --dev)" >&2
  if [ -n "${PIXELCRAFT_REQUIRE_BROWSER:-}" ]; then exit 1; fi
  exit 77
fi
out=$(cd "$web" && REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
  "$redocly" lint --format=stylish "$doc" 2>&1) || { echo "$out"; exit 1; }
echo "$out"
if echo "$out" | grep -qE "[0-9]+ warnings?\b|warning  "; then
  echo "lint_openapi: warnings count as failures" >&2
  exit 1
fi
