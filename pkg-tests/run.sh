#!/usr/bin/env bash
# Browser tests of the built package and the playground page (see pkg-tests/*.test.mjs).
# Needs pkg/ from `wasm-pack build --target web` and Debian's chromium at /usr/bin/chromium
# (or $CHROMIUM). Never downloads a browser.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/npm-install.sh
if [ ! -f pkg/kindling_bg.wasm ] && [ -z "${KINDLING_WEB_ROOT:-}" ]; then
  echo "pkg-tests: pkg/ is not built (run wasm-pack build --target web first)" >&2
  exit 1
fi
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "pkg-tests: no Chromium at ${CHROMIUM:-/usr/bin/chromium} (apt-get install chromium)" >&2
  exit 1
fi

mkdir -p test-artifacts
# One test file at a time: two browsers at once would starve a 2-core machine.
exec node --test --test-concurrency=1 "${@:-pkg-tests/}"
