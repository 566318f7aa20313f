#!/usr/bin/env bash
# Training on a compute peer over loopback against the local CPU (docs/remote.md): baby-GPT
# and a 256-dim GPT, `kindling train`'s own ms/step. Starts the peer and stops it.
#
#   scripts/bench-remote.sh [steps]      # default 30
#
# The peer and the client share this machine's cores, so this measures what the remote path
# costs (serialization, loopback, the server's dispatch), not what a GPU peer would gain.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kindling/target}"
steps="${1:-30}"
text=../shared/data/tinyshakespeare.txt
cargo build --quiet --bin kindling --features remote
kindling="$CARGO_TARGET_DIR/debug/kindling"
work=$(mktemp -d)
"$kindling" peer --listen 127.0.0.1:0 --secret bench > "$work/peer.out" 2> "$work/peer.log" &
peer=$!
trap 'kill $peer 2>/dev/null; rm -rf "$work"' EXIT
until grep -q '^kindling peer: serving' "$work/peer.out"; do sleep 0.1; done
url=$(head -1 "$work/peer.out" | awk '{print $NF}')

pace() { # model-label, then train arguments
  local label=$1; shift
  for backend in cpu remote; do
    local extra=()
    [ "$backend" = remote ] && extra=(--peer "$url" --secret bench)
    local line
    line=$("$kindling" train --text "$text" --preset baby-gpt --steps "$steps" \
      --set warmupSteps=3 --set evalInterval=0 "$@" --backend "$backend" "${extra[@]}" \
      --out "$work/m.kindling" 2>&1 | grep 'ms/step')
    printf '| %s | %s | %s |\n' "$label" "$backend" "$line"
  done
}
echo "| model | backend | $steps steps |"
echo "|---|---|---|"
pace "baby-GPT (4 x 128)"
pace "256-dim GPT (4 x 256, 8 heads)" --set nEmbd=256 --set nHead=8
