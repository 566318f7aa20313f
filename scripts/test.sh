#!/usr/bin/env bash
# Every check CI runs: formatting, lints for both targets, native tests, tests in headless
# Chromium, and the tests of the built package and page. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

step() { echo; echo "== $* =="; }

step "cargo fmt --check"
cargo fmt --check

step "clippy (native)"
cargo clippy --all-targets -- -D warnings
step "clippy (wasm32)"
cargo clippy --all-targets --target wasm32-unknown-unknown -- -D warnings

step "cargo test (native)"
cargo test

step "wasm-pack test in headless Chromium"
WASM_BINDGEN_TEST_TIMEOUT=300 wasm-pack test --headless --chrome --release --test web --test gpu_lost

step "build pkg/"
bash scripts/build.sh

step "pkg-tests (the built package and the page in Chromium)"
bash pkg-tests/run.sh

echo; echo "All checks passed."
