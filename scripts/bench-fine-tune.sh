#!/usr/bin/env bash
# Does pretraining pay on another language? The base model (www/models/base.kindling, English)
# fine-tuned on a French text (www/samples/scene-fr.txt) with every weight and with LoRA, against
# the same shape from scratch, same steps and settings, in headless Chromium. Prints a Markdown
# table of val bits per character; raw figures go to bench/results/fine-tune-latest.json.
# Not run by CI.
#
#   scripts/bench-fine-tune.sh [--no-build] [--steps N] [--every N] [--rank N] [--text FILE] [--lr X] [--tune-lr X] [--lora-lr X]
name=bench-fine-tune
source "$(dirname "$0")/bench-page.sh"

command=(scripts/bench-fine-tune.sh "$@")
exec node bench/bench-fine-tune.mjs --command "${command[*]}" ${args[@]+"${args[@]}"}
