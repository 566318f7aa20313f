#!/usr/bin/env bash
# The in-browser speed benchmark: in headless Chromium, ms per training step and generation
# tokens/s for tiny, baby-gpt and a 256-dim GPT, on the CPU and on WebGPU (Chromium runs with
# --enable-unsafe-webgpu; a backend the engine refuses shows "unavailable: <its message>").
# Prints a Markdown table; raw figures go to bench/results/browser-latest.json. Not run by CI.
#
#   scripts/bench-browser.sh [--no-build] [--iters N] [--warmup N] [--gen-tokens N]
#                            [--models tiny,baby-gpt,gpt-256] [--backends cpu,webgpu] [--quick]
#                            [--wait-idle SECONDS]
#
#   --no-build   use pkg/ and pkg-webgpu/ as they are instead of rebuilding them
#   --quick      few iterations: checks the harness, measures nothing reliable
#   --wait-idle S   wait up to S seconds for other processes to leave the CPU before starting
name=bench-browser
source "$(dirname "$0")/bench-page.sh"

command=(scripts/bench-browser.sh "$@")
exec node bench/bench-browser.mjs --data "$data" --command "${command[*]}" ${args[@]+"${args[@]}"}
