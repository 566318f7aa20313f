#!/usr/bin/env bash
# Does WebAssembly relaxed SIMD's fused multiply-add make the CPU step faster on this machine?
# Builds the CPU module a second time with gemm-f32's SIMD128 matmul microkernels (about 60% of
# a baby-GPT step) computing `c + a·b` with one f32x4.relaxed_madd instead of a multiply and an
# add, then times baby-GPT steps in headless Chromium with each build in turn. Not run by CI.
#
#   scripts/bench-relaxed-simd.sh [--rounds N]    (default 3; ~4 min to build, ~1 min a round)
#
# The patched build lives in a temporary git worktree of HEAD (/tmp/kindling-relaxed-simd,
# KINDLING_RELAXED_DIR elsewhere) with its own copy of gemm-f32 0.19.0 taken from cargo's
# registry and a [patch.crates-io] entry: this checkout, its Cargo.lock and pkg/ stay as they
# are (pkg/ is rebuilt from them first). Why a patch and not a shipped build: see
# docs/benchmarks.md#relaxed-simd. Figures go to bench/results/relaxed-simd.json.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "bench-relaxed-simd: unknown option $1" >&2; exit 1 ;;
  esac
done
say() { echo "[relaxed-simd] $*" >&2; }
data=$(realpath "${KINDLING_DATA:-../shared/data/tinyshakespeare.txt}")
work="${KINDLING_RELAXED_DIR:-/tmp/kindling-relaxed-simd}"

gemm=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/gemm-f32-0.19.0 2>/dev/null | head -1)
[ -n "$gemm" ] || { echo "bench-relaxed-simd: gemm-f32 0.19.0 is not in cargo's registry: build the project once first" >&2; exit 1; }

say "worktree of HEAD at $work"
git worktree remove --force "$work" 2>/dev/null || rm -rf "$work"
git worktree add --detach --quiet "$work" HEAD
trap 'git worktree remove --force "$work"' EXIT
rm -rf "$work/vendor" && mkdir -p "$work/vendor" && cp -r "$gemm" "$work/vendor/gemm-f32"
# The patch: in the wasm32 SIMD128 module only, mul_add becomes f32x4.relaxed_madd, and the
# microkernels are compiled with relaxed-simd enabled so that it inlines into them (an
# #[inline(always)] function cannot carry a target feature).
python3 - "$work/vendor/gemm-f32/src/microkernel.rs" <<'EOF'
import sys
path = sys.argv[1]
source = open(path).read()
start = source.index('pub mod simd128 {')
head, module = source[:start], source[start:]
old = '''        #[inline(always)]
        pub unsafe fn mul_add(a: Pack, b: Pack, c: Pack) -> Pack {
            add(c, mul(a, b))
        }'''
new = '''        #[inline]
        #[target_feature(enable = "simd128,relaxed-simd")]
        pub unsafe fn mul_add(a: Pack, b: Pack, c: Pack) -> Pack {
            transmute(f32x4_relaxed_madd(transmute(a), transmute(b), transmute(c)))
        }'''
assert module.count(old) == 1, 'gemm-f32 changed: the patch no longer applies'
module = module.replace(old, new, 1).replace('microkernel!(["simd128"],', 'microkernel!(["simd128,relaxed-simd"],')
open(path, 'w').write(head + module)
EOF
printf '\n[patch.crates-io]\ngemm-f32 = { path = "vendor/gemm-f32" }\n' >> "$work/Cargo.toml"

say "building pkg/ here and the relaxed-SIMD pkg/ in the worktree"
bash scripts/build.sh cpu >/dev/null
(cd "$work" && bash scripts/build.sh cpu >/dev/null) # its own npm packages too (scripts/setup.sh)

ms() { # median ms/step of baby-GPT in one worker, with the pkg/ of directory $1
  (cd "$1" && node bench/bench-browser.mjs --data "$data" --models baby-gpt --backends cpu \
    --out "$work/leg.json" >/dev/null)
  node -e "const r = require('$work/leg.json'); const t = r.results['baby-gpt/cpu'].train; if (!t.ok) { console.error(t.error); process.exit(1); } console.log(t.msPerIterMedian.toFixed(1))"
}
plain=() relaxed=()
for ((i = 1; i <= rounds; i++)); do
  plain+=("$(ms "$repo")")
  relaxed+=("$(ms "$work")")
  say "round $i: SIMD128 ${plain[-1]} ms/step, relaxed SIMD ${relaxed[-1]} ms/step"
done
node --input-type=module - "${plain[*]}" "${relaxed[*]}" "$repo/bench/results/relaxed-simd.json" <<'EOF'
const [plain, relaxed, out] = process.argv.slice(2);
const nums = (s) => s.split(' ').map(Number);
const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
const { machine, machineLine, writeJson } = await import(`${process.cwd()}/bench/common.mjs`);
const info = machine();
const [p, r] = [median(nums(plain)), median(nums(relaxed))];
const line = `${machineLine(info)}: baby-GPT in Chromium, one worker, median of ${nums(plain).length} rounds: SIMD128 ${p} ms/step, relaxed SIMD (FMA microkernels) ${r} ms/step (${(p / r).toFixed(2)}× the speed)`;
console.log(line);
writeJson(out, { machine: info, simd128: nums(plain), relaxedSimd: nums(relaxed), line });
EOF
