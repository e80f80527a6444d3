#!/usr/bin/env bash
# Include rules (STYLE.md §2, issue 9), checked by the test command:
# 1. Third-party headers stay in the one folder allowed to use them.
# 2. Our modules depend in one direction: every module may use the protocol (actors/);
#    persistence/, integrations/ and workflows/ use nothing else of ours; http/ may use
#    workflows/ (run-spec validation) but never persistence/ or integrations/; nothing but
#    app/ (the composition root) includes app/, and only app/ sees every module.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
status=0
sources() { git ls-files -co --exclude-standard -- "$@" | grep -E '\.(cpp|hpp)$' || true; }
# OpenSSL: http/ (JWTs, WebSocket keys) and app/ (the cluster's TLS files, checked at start).
for pair in "restinio/:http" "pqxx/:persistence" "curl/:integrations" "openssl/:http|app"; do
  lib=${pair%%:*} home=${pair##*:}
  hits=$(sources '*.cpp' '*.hpp' | grep -vE "^($home)/" \
    | grep -v "^tests/" | grep -v "^bench/" \
    | xargs -r grep -l "#include *<$lib" || true)
  if [ -n "$hits" ]; then
    echo "check-includes: <$lib...> included outside $home/: $hits" >&2
    status=1
  fi
done
# module:the modules of ours it may include (besides itself)
for rule in "actors:" "persistence:actors" "integrations:actors" "workflows:actors" \
            "http:actors workflows"; do
  module=${rule%%:*} allowed="$module ${rule#*:}"
  for f in $(sources "$module/"); do
    while IFS= read -r dep; do
      case " $allowed " in
        *" $dep "*) ;;
        *) echo "check-includes: $f includes $dep/ (allowed: $allowed)" >&2; status=1 ;;
      esac
    done < <(grep -oE '^#include "[a-z_]+/' "$f" | sed -E 's/#include "([a-z_]+)\//\1/' | sort -u)
  done
done
exit $status
