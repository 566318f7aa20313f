#!/usr/bin/env bash
# WebGPU's cost per training step and per generated token: dispatches, queue submits, buffer
# read-backs, writes and pipelines (counted by wrapping the GPU* prototypes in the page), beside
# ms, for tiny, baby-gpt, a 256-dim GPT and seed-lstm, in headless Chromium with
# --enable-unsafe-webgpu. Prints a Markdown table; raw figures go to
# bench/results/webgpu-latest.json. Not run by CI.
#
#   scripts/bench-webgpu.sh [--no-build] [--steps N] [--tokens N] [--models tiny,baby-gpt,gpt-256,seed-lstm]
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
args=()
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) args+=("$arg") ;;
  esac
done
data="${KINDLING_DATA:-../shared/data/tinyshakespeare.txt}"
[ -f "$data" ] || { echo "bench-webgpu: no training text at $data (set KINDLING_DATA)" >&2; exit 1; }
bash scripts/npm-install.sh
if [ "$build" = 1 ]; then bash scripts/build.sh >&2; fi
[ -f pkg/kindling_bg.wasm ] || { echo "bench-webgpu: pkg/ is not built (run scripts/build.sh)" >&2; exit 1; }
command=(scripts/bench-webgpu.sh "$@")
exec node bench/bench-webgpu.mjs --data "$data" --command "${command[*]}" ${args[@]+"${args[@]}"}
