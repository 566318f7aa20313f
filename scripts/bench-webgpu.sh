#!/usr/bin/env bash
# WebGPU's cost per training step and per generated token: dispatches, queue submits, buffer
# read-backs, writes and pipelines (counted by wrapping the GPU* prototypes in the page), beside
# ms, for tiny, baby-gpt, a 256-dim GPT and seed-lstm, in headless Chromium with
# --enable-unsafe-webgpu. Prints a Markdown table; raw figures go to
# bench/results/webgpu-latest.json. Not run by CI.
#
#   scripts/bench-webgpu.sh [--no-build] [--warmup N] [--steps N] [--tokens N]
#       [--models tiny,baby-gpt,gpt-256,seed-lstm]   (also seed-lstm-b2, -t8, -t16: see bench-webgpu.mjs)
name=bench-webgpu
source "$(dirname "$0")/bench-page.sh"

command=(scripts/bench-webgpu.sh "$@")
exec node bench/bench-webgpu.mjs --data "$data" --command "${command[*]}" ${args[@]+"${args[@]}"}
