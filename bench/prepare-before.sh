#!/usr/bin/env bash
# A tree for bench/bench-engines.mjs --root: an older commit's www/ (by default bd7279f, the
# element before the measured helper count, which started one helper per reported core, at
# most 3) beside this checkout's pkg/ (and pkg-webgpu/ where there is one), linked, so that the
# before/after figures differ in the element's code alone, never in the engine.
#
#   bench/prepare-before.sh [COMMIT] [DIR]     (defaults: bd7279f /tmp/kindling-before)
#   node bench/bench-engines.mjs --root /tmp/kindling-before --label before --json ...
#
# DIR is made afresh: removed first when an earlier run of this script made it (it holds
# .bench-commit), refused when it is anything else. Nothing in the repository changes
# (git archive, not a worktree). Build pkg/ first: the links point at this checkout's.
set -euo pipefail

commit=${1:-bd7279f}
dir=${2:-/tmp/kindling-before}
repo=$(cd "$(dirname "$0")/.." && pwd)

full=$(git -C "$repo" rev-parse --verify "$commit^{commit}")
if [[ ! -f "$repo/pkg/kindling_bg.wasm" ]]; then
  echo "prepare-before.sh: no $repo/pkg/kindling_bg.wasm: build pkg/ first" >&2
  exit 1
fi
if [[ -e "$dir" ]]; then
  if [[ ! -f "$dir/.bench-commit" ]]; then
    echo "prepare-before.sh: $dir exists and is not one this script made; choose another DIR" >&2
    exit 1
  fi
  rm -rf -- "$dir"
fi
mkdir -p -- "$dir"
git -C "$repo" archive "$full" www | tar -x -C "$dir"
for build in pkg pkg-webgpu; do
  if [[ -d "$repo/$build" ]]; then ln -s "$repo/$build" "$dir/$build"; fi
done
echo "$(git -C "$repo" rev-parse --short "$full") www (pkg/ from $repo)" >"$dir/.bench-commit"
echo "$dir: www/ of $(git -C "$repo" log -1 --format='%h %s' "$full" | cut -c1-100)"
echo "linked: $(cd "$dir" && ls -d pkg* | tr '\n' ' ')"
