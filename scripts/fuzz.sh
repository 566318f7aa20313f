#!/usr/bin/env bash
# A long run of the property tests over untrusted input (model files, text, options): the same
# tests CI runs with a bounded number of cases (tests/native/fuzz.rs), here with many more.
#   scripts/fuzz.sh [cases]      (default 100000 for the cheap properties; model files get a
#                                 fifth of it, each case loads a model)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cases="${1:-100000}"
started=$SECONDS
KINDLING_FUZZ_CASES="$cases" cargo nextest run --test native -E 'test(/fuzz::/)' \
  --no-fail-fast --test-threads 2
echo "fuzz: $cases cases per property in $((SECONDS - started)) s"
