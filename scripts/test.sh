#!/usr/bin/env bash
# The test command (npm test): build the real-image fixtures when the tools are here, then run vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v umoci >/dev/null && command -v skopeo >/dev/null && command -v debootstrap >/dev/null && [ "$(id -u)" = 0 ]; then
  bash scripts/make-fixtures.sh
else
  echo "test: umoci, skopeo and debootstrap (run as root) are needed for the real-image fixtures;" \
       "the tests comparing with umoci will be skipped (apt-get install umoci skopeo debootstrap)" >&2
fi
exec npx vitest run "$@"
