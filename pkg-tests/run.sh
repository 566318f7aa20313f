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
# One test file at a time: two browsers at once would starve a 2-core machine.
exec node --test --test-concurrency=1 "${@:-pkg-tests/}"
