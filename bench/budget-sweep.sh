#!/usr/bin/env bash
# The measurements behind the training budgets' sizing rule (src/budget.rs): the validation loss
# each candidate shape keeps (its best evaluation, as a budget's run keeps it) after N steps of a
# schedule that ends at N, on tinyshakespeare and on its first 20,000 characters (a text the
# size of a long blog post). Loss after N steps does not depend on the machine; how many steps
# fit in a budget does, and the page measures that on the reader's device. Prints one JSON line
# per run and writes bench/results/budget-sweep.json.
#
#   bench/budget-sweep.sh [SHAPES] [OUT]   SHAPES: a regex of shape names (default all);
#                                          OUT: default bench/results/budget-sweep.json
# It runs the release build of `kindling` (cargo build --release --bin kindling), one thread:
# two at once (say gpt and 'lstm|gru') use both cores of a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
filter=${1:-.}
bin=${KINDLING_BIN:-${CARGO_TARGET_DIR:-target}/release/kindling}
long=../shared/data/tinyshakespeare.txt
out=${2:-bench/results/budget-sweep.json}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
head -c 20000 "$long" > "$scratch/short.txt"

# name | steps on the long text | steps on the short one. Each shape trains with the budget's
# own config for it (`kindling train --shape`: src/budget.rs's SHAPES and recipe). The step
# counts span what fits in 1 to 5 minutes in a tab (one worker: ~12 ms a step for the smallest
# GPT, ~150 for the largest); the short text is learnt by 1,000 steps, after which a run only
# memorizes it.
shapes=(
  "gpt-2x32|250 1000 4000|250 1000"
  "gpt-2x64|250 1000 4000|250 1000"
  "gpt-3x96|250 1000 2000 4000|250 1000"
  "gpt-4x128|250 1000 2000 4000|250 1000"
  "lstm-1x128|250 1000|250 1000"
  "lstm-2x256|250 1000|250 1000"
  "gru-1x128|250 1000|250 1000"
)
echo "[" > "$out.tmp"
first=1
for entry in "${shapes[@]}"; do
  name=${entry%%|*}
  [[ $name =~ $filter ]] || continue
  rest=${entry#*|}
  runs=()
  for steps in ${rest%%|*}; do runs+=("long $steps"); done
  for steps in ${rest##*|}; do runs+=("short $steps"); done
  for run in "${runs[@]}"; do
    read -r text steps <<< "$run"
    file=$long; [ "$text" = short ] && file=$scratch/short.txt
    started=$SECONDS
    lines=$("$bin" train --text "$file" --shape "$name" --steps "$steps" --set evalBatches=40 \
      --out "$scratch/m.kindling" 2>&1)
    best=$(sed -n 's/^step [0-9]*: .* val \([0-9.]*\) .*/\1/p' <<< "$lines" | sort -g | head -1)
    json="{\"shape\":\"$name\",\"text\":\"$text\",\"steps\":$steps,\"bestValLoss\":$best,\"seconds\":$((SECONDS - started))}"
    echo "$json"
    [ $first = 1 ] || echo "," >> "$out.tmp"
    first=0
    echo "$json" >> "$out.tmp"
  done
done
echo "]" >> "$out.tmp"
mv "$out.tmp" "$out"
