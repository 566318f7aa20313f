#!/usr/bin/env bash
# What HuggingFace `tokenizers` (0.21, wasm feature, parallelism off) would cost Kindling for
# byte-level BPE: builds bench/hf-tokenizers/ (a scratch crate outside Kindling's build) to
# wasm32, then times learning 512 merges from 1 MB of tinyshakespeare and encoding it in
# headless Chromium, and prints the module's gzip size. Compare with scripts/bench-bpe.sh.
# Not run by CI.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${KINDLING_DATA:-../shared/data/tinyshakespeare.txt}"
dir=bench/hf-tokenizers
target="${CARGO_TARGET_DIR:-$HOME/.cache/kindling/hf-tokenizers}"
CARGO_TARGET_DIR="$target" cargo build --release --target wasm32-unknown-unknown \
  --manifest-path "$dir/Cargo.toml" >&2
wasm-bindgen --target web --out-dir "$dir/pkg" "$target/wasm32-unknown-unknown/release/hftok.wasm"
cp "$data" "$dir/text.txt"
echo "module: $(stat -c %s "$dir/pkg/hftok_bg.wasm") bytes, $(gzip -9c "$dir/pkg/hftok_bg.wasm" | wc -c) gzipped"
node bench/hf-tokenizers/run.mjs
