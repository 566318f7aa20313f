#!/usr/bin/env bash
# The one-minute model against PyTorch's clock: the page's 1- and 5-minute budgets in Chromium
# and Firefox beside nanoGPT's baby-GPT recipe in PyTorch at 1 and 2 threads, given the same
# seconds, scored on the same validation windows (bench/bench-speedrun.mjs says how). Not run by
# CI; takes ~25 minutes and wants the machine to itself.
#
#   scripts/bench-speedrun.sh [--no-build] [--readme] [--seconds 60,300]
#                             [--engines chromium,firefox] [--threads 1,2] [--json FILE]
#
#   --no-build   use pkg/ and the release CLI as they are
#   --readme     put the table into docs/benchmarks.md (between the speedrun markers)
#
# Installs what it needs the first time: PyTorch (CPU) into bench/.venv as scripts/bench.sh
# does, Debian's chromium (bench-page.sh) and firefox-esr (scripts/setup.sh), npm's packages.
name=bench-speedrun
source "$(dirname "$0")/bench-page.sh"

venv="${KINDLING_BENCH_VENV:-bench/.venv}"
if ! "$venv/bin/python" -c 'import torch' >/dev/null 2>&1; then
  echo "[bench] installing PyTorch into $venv (first time only)" >&2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --retries 0 --timeout 15 torch \
      --index-url https://download.pytorch.org/whl/cpu >/dev/null 2>&1 ||
    "$venv/bin/pip" install --quiet torch >&2
fi
[ -x "${FIREFOX:-/usr/bin/firefox-esr}" ] || bash scripts/setup.sh >&2
[ "$build" = 1 ] && cargo build --release --bin kindling >&2
exec node bench/bench-speedrun.mjs ${args[@]+"${args[@]}"}
