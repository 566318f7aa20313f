#!/usr/bin/env bash
# The in-browser speed benchmark: in headless Chromium, ms per training step and generation
# tokens/s for tiny, baby-gpt and a 256-dim GPT, on the CPU and on WebGPU (Chromium runs with
# --enable-unsafe-webgpu; a backend the engine refuses shows "unavailable: <its message>").
# Prints a Markdown table; raw figures go to bench/results/browser-latest.json. Not run by CI.
#
#   scripts/bench-browser.sh [--no-build] [--iters N] [--warmup N] [--gen-tokens N]
#                            [--models tiny,baby-gpt,gpt-256] [--backends cpu,webgpu] [--quick]
#                            [--wait-idle SECONDS]
#
#   --no-build   use pkg/ as it is instead of rebuilding it (wasm-pack, incremental ~7 s)
#   --quick      few iterations: checks the harness, measures nothing reliable
#   --wait-idle S   wait up to S seconds for other processes to leave the CPU before starting
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
if [ ! -f "$data" ]; then
  echo "bench-browser: no training text at $data (set KINDLING_DATA)" >&2
  exit 1
fi
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "[bench] installing Debian's chromium" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium mesa-vulkan-drivers >/dev/null
fi
bash scripts/npm-install.sh
if [ "$build" = 1 ]; then
  echo "[bench] building pkg/ (wasm-pack build --target web --release)" >&2
  bash scripts/build.sh >&2
elif [ ! -f pkg/kindling_bg.wasm ]; then
  echo "bench-browser: pkg/ is not built (drop --no-build, or run scripts/build.sh)" >&2
  exit 1
fi

command=(scripts/bench-browser.sh "$@")
exec node bench/bench-browser.mjs --data "$data" --command "${command[*]}" ${args[@]+"${args[@]}"}
