#!/usr/bin/env bash
# Trains baby-GPT natively (Flex) on tinyshakespeare with nanoGPT's CPU recipe and prints the
# final val loss and the median ms/iteration. nanoGPT reaches 1.8857; ours must reach <= 1.89.
#   scripts/bench-native.sh [iterations]     (default 2000, the full recipe)
set -euo pipefail
cd "$(dirname "$0")/.."
data="${KINDLING_DATA:-../shared/data/tinyshakespeare.txt}"
cargo run --release --quiet --no-default-features --example bench -- train-baby-gpt --iters "${1:-2000}" --data "$data"
