#!/usr/bin/env bash
# The one-minute model against PyTorch's clock: the page's 1- and 5-minute budgets in Chromium
# and Firefox beside nanoGPT's baby-GPT recipe in PyTorch at 1 and 2 threads, given the same
# seconds, scored on the same validation windows (bench/bench-speedrun.mjs says how). Not run by
# CI; takes ~25 minutes and wants the machine to itself.
#
#   scripts/bench-speedrun.sh [--no-build] [--readme] [bench-speedrun.mjs options...]
#
#   --no-build   use pkg/ and the release CLI as they are
#   --readme     put the table into docs/benchmarks.md (between the speedrun markers)
#   e.g. --seconds 60 --engines chromium --threads 2   for a shorter run
#
# Installs what it needs the first time: PyTorch (CPU) into bench/.venv as scripts/bench.sh
# does, Debian's chromium and firefox-esr (scripts/setup.sh), npm's puppeteer-core.
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
args=()
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) args+=("$arg") ;;
  esac
done

venv="${KINDLING_BENCH_VENV:-bench/.venv}"
if ! "$venv/bin/python" -c 'import torch' >/dev/null 2>&1; then
  echo "[bench] installing PyTorch into $venv (first time only)" >&2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --retries 0 --timeout 15 torch \
      --index-url https://download.pytorch.org/whl/cpu >/dev/null 2>&1 ||
    "$venv/bin/pip" install --quiet torch >&2
fi
[ -x /usr/bin/chromium ] && [ -x /usr/bin/firefox-esr ] || bash scripts/setup.sh >&2
bash scripts/npm-install.sh
if [ "$build" = 1 ]; then
  cargo build --release --bin kindling >&2
  bash scripts/build.sh cpu >&2
fi
exec node bench/bench-speedrun.mjs "${args[@]}"
