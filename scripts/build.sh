#!/usr/bin/env bash
# Builds pkg/ (the wasm module and its JS glue) for the page.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
wasm-pack build --target web --release -- --features webgpu
