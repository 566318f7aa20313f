#!/usr/bin/env bash
# Kindling <-> nanoGPT through nanoGPT's own model.py (bench/nanogpt/roundtrip.py): a nanoGPT
# ckpt.pt imported into Kindling, and a Kindling model exported as safetensors loaded into
# nanoGPT's GPT, each giving the same logits within 1e-4.
#
#   scripts/nanogpt-roundtrip.sh              # the check
#   scripts/nanogpt-roundtrip.sh --fixtures   # rewrite tests/fixtures/nanogpt (what CI tests)
#
# Needs PyTorch (bench/.venv, which scripts/bench.sh makes; KINDLING_BENCH_VENV elsewhere) and a
# checkout of karpathy/nanoGPT: NANOGPT_DIR, else bench/.nanogpt, cloned on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kindling/target}"

venv="${KINDLING_BENCH_VENV:-bench/.venv}"
if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
  echo "no PyTorch in $venv: run scripts/bench.sh once (it installs it), or set KINDLING_BENCH_VENV" >&2
  exit 1
fi
"$venv/bin/python" -c 'import safetensors' 2>/dev/null || "$venv/bin/pip" install --quiet safetensors numpy

nanogpt="${NANOGPT_DIR:-bench/.nanogpt}"
if [ ! -f "$nanogpt/model.py" ]; then
  git clone --quiet https://github.com/karpathy/nanoGPT "$nanogpt"
fi

text=www/samples/scene-fr.txt
if [ "${1:-}" = "--fixtures" ]; then
  exec "$venv/bin/python" bench/nanogpt/roundtrip.py fixtures --nanogpt "$nanogpt" --text "$text" \
    --out tests/fixtures/nanogpt
fi
cargo build --quiet --bin kindling
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$venv/bin/python" bench/nanogpt/roundtrip.py check --nanogpt "$nanogpt" --text "$text" \
  --kindling "$CARGO_TARGET_DIR/debug/kindling" --work "$work"
