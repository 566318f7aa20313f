#!/usr/bin/env bash
# Browser tests of the built package and the playground page (see pkg-tests/*.test.mjs).
# Needs pkg/, pkg-webgpu/ and pkg-remote/ from scripts/build.sh and Debian's chromium at
# /usr/bin/chromium (or $CHROMIUM); engines.test.mjs also Debian's firefox-esr, WebKitGTK's
# WebKitWebDriver and xvfb-run (scripts/setup.sh installs them). Never downloads a browser.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/npm-install.sh
for dir in pkg pkg-webgpu pkg-remote; do
  if [ ! -f "$dir/kindling_bg.wasm" ] && [ -z "${KINDLING_WEB_ROOT:-}" ]; then
    echo "pkg-tests: $dir/ is not built (run scripts/build.sh first)" >&2
    exit 1
  fi
done
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "pkg-tests: no Chromium at ${CHROMIUM:-/usr/bin/chromium} (apt-get install chromium)" >&2
  exit 1
fi
for tool in "${FIREFOX:-/usr/bin/firefox-esr}" "${WEBKIT_DRIVER:-/usr/bin/WebKitWebDriver}" /usr/bin/xvfb-run; do
  if [ ! -x "$tool" ]; then
    echo "pkg-tests: no $tool (apt-get install firefox-esr webkit2gtk-driver xvfb)" >&2
    exit 1
  fi
done

mkdir -p test-artifacts
# Two test files at a time, each with its own browser and server. One at a time left a third of
# a 2-core machine idle (pages loading, the engine starting, waits for rendering): 645 s, against
# 483 s with two (2026-12-07, 2-core AMD VM, vmstat). Every speed-driven choice the tests check
# (workers, WebGPU, Train for) runs on injected timings, so sharing the CPU changes no result.
exec node --test --test-concurrency=2 "${@:-pkg-tests/}"
