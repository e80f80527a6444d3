#!/usr/bin/env bash
# Formatting is .clang-format's (STYLE.md §10), with the pinned clang-format-14. Checked by the
# test command; `scripts/check-format.sh --fix` rewrites the files in place instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mapfile -t files < <(git ls-files -co --exclude-standard -- '*.cpp' '*.hpp')
if [ "${1:-}" = "--fix" ]; then
  clang-format-14 -i --style=file "${files[@]}"
  exit 0
fi
if ! clang-format-14 --dry-run --Werror --style=file "${files[@]}" 2>/tmp/pxformat.$$; then
  grep -E "^[^ ].*(error|warning):" /tmp/pxformat.$$ | cut -d: -f1 | sort -u | sed 's/^/check-format: not formatted: /' >&2
  echo "check-format: run scripts/check-format.sh --fix" >&2
  rm -f /tmp/pxformat.$$
  exit 1
fi
rm -f /tmp/pxformat.$$
