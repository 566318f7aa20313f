#!/usr/bin/env bash
# How long `inspect` takes in headless Chromium on the CPU: baby-gpt over 64 characters and
# seed-lstm over 256 (issue 14's target: 100 ms each), plus tiny and gru. Untrained models:
# the work does not depend on the weights. Prints a Markdown table; raw figures go to
# bench/results/inspect-latest.json. Not run by CI.
#
#   scripts/bench-inspect.sh [--no-build] [--runs N]
name=bench-inspect
source "$(dirname "$0")/bench-page.sh"

command=(scripts/bench-inspect.sh "$@")
exec node bench/bench-inspect.mjs --data "$data" --command "${command[*]}" ${args[@]+"${args[@]}"}
