#!/usr/bin/env bash
# What byte-level BPE costs in headless Chromium: learning 512 merges from 1 MB of
# tinyshakespeare and encoding it (through Kindling.validate), against characters, plus the
# compression it gets. Prints a Markdown table; raw figures go to bench/results/bpe-latest.json.
# Not run by CI.
#
#   scripts/bench-bpe.sh [--no-build] [--merges N] [--chars N] [--runs N]
name=bench-bpe
source "$(dirname "$0")/bench-page.sh"

command=(scripts/bench-bpe.sh "$@")
exec node bench/bench-bpe.mjs --data "$data" --command "${command[*]}" ${args[@]+"${args[@]}"}
