#!/usr/bin/env bash
# Builds the engine for the page, three times: pkg/ without WebGPU (the small download every
# reader gets), pkg-webgpu/ with it (fetched only where a GPU adapter can use it) and
# pkg-remote/ with burn's remote client (fetched only when a reader connects to a compute
# peer). Each is a wasm module and its JS glue. pkg-webgpu/ reuses the browser tests' build
# (same features).
#
#   scripts/build.sh [cpu|webgpu|remote]   (all three when no argument)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
builds=("$@")
[ ${#builds[@]} -gt 0 ] || builds=(cpu webgpu remote)
for build in "${builds[@]}"; do
  case "$build" in
    cpu) wasm-pack build --target web --release --out-dir pkg ;;
    webgpu) wasm-pack build --target web --release --out-dir pkg-webgpu -- --features webgpu ;;
    remote) wasm-pack build --target web --release --out-dir pkg-remote -- --features remote-client ;;
    *) echo "build.sh: unknown build $build (cpu, webgpu or remote)" >&2; exit 1 ;;
  esac
done
