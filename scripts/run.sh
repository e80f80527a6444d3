#!/usr/bin/env bash
# One command from a fresh Debian 12 machine (as root) to a running server:
# installs packages, builds, starts a local PostgreSQL in .data/ unless DATABASE_URL is set,
# and runs `pixelcraft serve` (APP_PORT, default 8000). Idempotent: reuses build and cluster.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
"$root/scripts/web-deps.sh" || echo "run: Swagger UI not installed; /docs serves its built-in reader" >&2
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$("$root/scripts/pg-cluster.sh" start "$root/.data/pg" "${PIXELCRAFT_PG_PORT:-54320}")
  export DATABASE_URL
  echo "local PostgreSQL: $DATABASE_URL (data in .data/pg)"
fi
cd "$root"
exec "${BUILD_DIR:-$root/build}/app/pixelcraft" serve
