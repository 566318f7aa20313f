#!/usr/bin/env bash
# Training on a compute peer over loopback against the local CPU (docs/remote.md): baby-GPT
# and a 256-dim GPT, in the tab (pkg/ against pkg-remote/ on a `--transport iroh` peer, through
# its relay: bench/bench-remote-page.mjs) and on the command line (`kindling train`'s own
# ms/step, over WebSocket). Starts the peers and stops them. Needs pkg/ and pkg-remote/
# (scripts/build.sh cpu remote).
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
peers=()
trap 'kill "${peers[@]}" 2>/dev/null; rm -rf "$work"' EXIT
start_peer() { # transport; sets $url to the address the peer printed
  "$kindling" peer --transport "$1" --listen 127.0.0.1:0 --secret bench > "$work/$1.out" 2> "$work/$1.log" &
  peers+=($!)
  until grep -q '^kindling peer: serving' "$work/$1.out"; do sleep 0.1; done
  url=$(head -1 "$work/$1.out" | awk '{print $NF}')
}

echo "In the tab (Chromium; chunks of 10 steps):"
start_peer iroh
node bench/bench-remote-page.mjs --peer "$url" --secret bench --steps "$steps"
kill "${peers[@]}"; peers=()
echo
echo "On the command line:"
start_peer websocket

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
