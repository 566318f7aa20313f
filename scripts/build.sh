#!/usr/bin/env bash
# Builds the engine for the page, twice: pkg/ without WebGPU (the small download every reader
# gets) and pkg-webgpu/ with it (fetched only where a GPU adapter can use it). Each is a wasm
# module and its JS glue. pkg-webgpu/ reuses the browser tests' build (same features).
#
#   scripts/build.sh [cpu|webgpu]   (both when no argument)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
builds=("$@")
[ ${#builds[@]} -gt 0 ] || builds=(cpu webgpu)
for build in "${builds[@]}"; do
  case "$build" in
    cpu) wasm-pack build --target web --release --out-dir pkg ;;
    webgpu) wasm-pack build --target web --release --out-dir pkg-webgpu -- --features webgpu ;;
    *) echo "build.sh: unknown build $build (cpu or webgpu)" >&2; exit 1 ;;
  esac
done
