#!/usr/bin/env bash
# The recipe tries behind the training budgets' settings (issue 27 §2): each variant trains on
# tinyshakespeare for the same wall time, its schedule ending when the time does, and reports
# its validation loss. How many steps fit is measured first (a 40-step probe of that variant),
# so a variant that makes a step cheaper gets more of them: quality per second, not per step.
# Runs the release `kindling` CLI (one thread, like one worker in a tab); JOBS variants at once.
#
#   bench/recipe-tries.sh SECONDS BASE_SETTINGS [JOBS] < variants
#   variants: one per line, "name | --set field=value ... [| steps]" (empty settings: the
#   base; steps: train that many instead of probing, for a variant that leaves a step's cost
#   as it was and should not differ by the probe's noise)
# Prints one JSON line per variant: name, steps, ms/step, val loss (nats/char) at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=$1 base=$2 jobs=${3:-1}
bin=${KINDLING_BIN:-${CARGO_TARGET_DIR:-target}/release/kindling}
text=../shared/data/tinyshakespeare.txt
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

try() {
  local name=$1 settings=$2 steps=$3 ms=null out=$scratch/$RANDOM
  if [ -z "$steps" ]; then
    # shellcheck disable=SC2086
    ms=$("$bin" train --text "$text" --preset tiny --steps 40 --set evalInterval=0 $base $settings \
      --out "$out" 2>&1 | sed -n 's/.*: \([0-9.]*\) ms\/step/\1/p')
    steps=$(python3 -c "print(int($seconds * 1000 * 0.95 / $ms))")
  fi
  warmup=$(( steps / 20 < 100 ? steps / 20 : 100 ))
  # shellcheck disable=SC2086
  val=$("$bin" train --text "$text" --preset tiny --steps "$steps" --set warmupSteps=$warmup \
    --set evalInterval="$steps" --set evalBatches=40 $base $settings --out "$out" 2>&1 |
    sed -n 's/^step [0-9]*: .* val \([0-9.]*\) .*/\1/p' | tail -1)
  echo "{\"name\":\"$name\",\"steps\":$steps,\"msPerStep\":$ms,\"valLoss\":$val,\"settings\":\"$settings\"}"
  rm -f "$out"
}

trim() { local s=${1#"${1%%[![:space:]]*}"}; echo "${s%"${s##*[![:space:]]}"}"; }

while IFS='|' read -r name settings steps; do
  name=$(trim "$name") steps=$(trim "$steps")
  [ -z "$name" ] && continue
  try "$name" "$settings" "$steps" &
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
done
wait
