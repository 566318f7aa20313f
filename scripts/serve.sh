#!/usr/bin/env bash
# Builds Kindling and serves the page on http://127.0.0.1:${PORT:-8080} (or the port given).
#   scripts/serve.sh [port]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
port="${1:-${PORT:-8080}}"
echo "Kindling: open http://127.0.0.1:$port/"
exec node scripts/server.mjs --port "$port" --root .
