#!/usr/bin/env bash
# Third-party headers stay in the one folder allowed to use them (STYLE.md §2).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
status=0
for pair in "restinio/:http" "pqxx/:persistence" "curl/:integrations" "openssl/:http"; do
  lib=${pair%%:*} home=${pair##*:}
  hits=$(git ls-files -co --exclude-standard -- '*.cpp' '*.hpp' | grep -v "^$home/" \
    | grep -v "^tests/" | grep -v "^bench/" \
    | xargs -r grep -l "#include *<$lib" || true)
  if [ -n "$hits" ]; then
    echo "check-includes: <$lib...> included outside $home/: $hits" >&2
    status=1
  fi
done
exit $status
