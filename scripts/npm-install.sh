#!/usr/bin/env bash
# Installs the npm packages package-lock.json names (playwright-core, puppeteer-core, axe-core,
# typescript, @biomejs/biome) when node_modules is missing or older than the lockfile.
# playwright-core drives Debian's Chromium and puppeteer-core Debian's Firefox ESR: neither may
# download a browser.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[setup] installing npm packages" >&2
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --silent
fi
