#!/usr/bin/env bash
# Builds the engine for the page, three times: pkg/ without WebGPU (the small download every
# reader gets), pkg-webgpu/ with it (fetched only where a GPU adapter can use it) and
# pkg-remote/ with burn's remote client (fetched only when a reader connects to a compute
# peer). Each is a wasm module and its JS glue and types, from `cargo build` and wasm-bindgen
# (what wasm-pack would run, without installing wasm-pack: 2 minutes of a fresh CI machine).
# pkg-webgpu/ reuses the browser tests' dependencies (same features).
#
#   scripts/build.sh [cpu|webgpu|remote]   (all three when no argument)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

# bindgen OUT_DIR [cargo build's arguments]
bindgen() {
  local out=$1
  shift
  cargo build --lib --release --target wasm32-unknown-unknown "$@"
  wasm-bindgen --target web --out-dir "$out" \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/kindling.wasm"
}

builds=("$@")
[ ${#builds[@]} -gt 0 ] || builds=(cpu webgpu remote)
for build in "${builds[@]}"; do
  case "$build" in
    cpu) bindgen pkg ;;
    webgpu) bindgen pkg-webgpu --features webgpu ;;
    remote) bindgen pkg-remote --features remote-client ;;
    *) echo "build.sh: unknown build $build (cpu, webgpu or remote)" >&2; exit 1 ;;
  esac
done
