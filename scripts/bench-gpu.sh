#!/usr/bin/env bash
# WebGPU on a real GPU, in one prepared run: native wgpu (Vulkan) against Flex (the CPU) in
# ms/step for baby-gpt and the 256-dim GPT, then the same models in headless Chromium on its
# WebGPU adapter, with the GPU calls per step (bench/bench-webgpu.mjs). Made for a machine with
# an NVIDIA GPU and its Vulkan driver; on a GPU-less machine wgpu finds lavapipe and Chromium
# SwiftShader (software: a check of the script, not a GPU figure; the table names the adapter).
# Prints Markdown; raw figures go to bench/results/gpu-latest.json. Not run by CI.
#
#   scripts/bench-gpu.sh [--iters N] [--no-browser] [--browser-models baby-gpt,gpt-256]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh >&2

iters=20
browser=1
browser_models=baby-gpt,gpt-256
while [ $# -gt 0 ]; do
  case "$1" in
    --iters) iters="$2"; shift ;;
    --no-browser) browser=0 ;;
    --browser-models) browser_models="$2"; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "bench-gpu: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
data="${KINDLING_DATA:-../shared/data/tinyshakespeare.txt}"
[ -f "$data" ] || { echo "bench-gpu: no training text at $data (set KINDLING_DATA)" >&2; exit 1; }
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version --format=csv,noheader >&2 || echo "[bench-gpu] no nvidia-smi: no NVIDIA GPU here" >&2

echo "[bench-gpu] building the native bench with wgpu (cargo build --release --features webgpu --example bench)" >&2
cargo build --release --quiet --features webgpu --example bench
bin="$CARGO_TARGET_DIR/release/examples/bench"
results=()
for n_embd in 128 256; do
  for backend in cpu webgpu; do
    echo "[bench-gpu] native $backend, n_embd $n_embd" >&2
    results+=("$("$bin" train-speed --backend "$backend" --n-embd "$n_embd" --iters "$iters" --data "$data")")
  done
done

mkdir -p bench/results
printf '%s\n' "${results[@]}" | node -e '
  const rows = require("fs").readFileSync(0, "utf8").trim().split("\n").map(JSON.parse);
  const ms = (v) => (v >= 100 ? v.toFixed(0) : v.toFixed(1)) + " ms";
  console.log("Native (examples/bench train-speed):\n");
  console.log("| model | backend | adapter | first step | ms/step (single) | ms/step (chunk of '"$iters"') |");
  console.log("| --- | --- | --- | --- | --- | --- |");
  for (const r of rows) console.log(`| ${r.nEmbd === 128 ? "baby-gpt" : "gpt-" + r.nEmbd} | ${r.backend === "cpu" ? "Flex (CPU)" : "wgpu"} | ${r.adapter ?? "—"} | ${ms(r.firstStepMs)} | ${ms(r.msPerIterMedian)} | ${ms(r.chunkedMsPerIter)} |`);
  require("fs").writeFileSync("bench/results/gpu-latest.json", JSON.stringify({ native: rows }, null, 2));
'

if [ "$browser" = 1 ]; then
  echo >&2
  echo "[bench-gpu] Chromium on its WebGPU adapter (Vulkan where the driver allows)" >&2
  bash scripts/npm-install.sh
  [ -f pkg-webgpu/kindling_bg.wasm ] || bash scripts/build.sh >&2
  KINDLING_CHROMIUM_ARGS="--enable-features=Vulkan --use-vulkan=native --use-angle=vulkan --ignore-gpu-blocklist" \
    node bench/bench-webgpu.mjs --data "$data" --models "$browser_models" --steps 10 --tokens 50 \
    --out bench/results/gpu-browser-latest.json --command "scripts/bench-gpu.sh"
fi
