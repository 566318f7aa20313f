#!/usr/bin/env bash
# Every check CI runs: formatting, lints for both targets, native tests, tests in headless
# Chromium, and the tests of the built package and page. Exits non-zero on the first failure
# and prints each stage's time (CI's budget is the scarcest resource; see docs/design.md).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
source scripts/setup.sh

timings=()
stage_name=""
stage_start=$SECONDS
finish_stage() {
  if [ -n "$stage_name" ]; then
    timings+=("$(printf '%5ds  %s' $((SECONDS - stage_start)) "$stage_name")")
  fi
}
step() {
  finish_stage
  stage_name="$*"
  stage_start=$SECONDS
  echo; echo "== $* =="
}
report() {
  finish_stage
  stage_name=""
  echo; echo "Stage times (setup: $((stage_first - started)) s):"
  printf '%s\n' "${timings[@]}"
  echo "total $((SECONDS - started)) s"
}
trap report EXIT
stage_first=$SECONDS

step "cargo fmt --check"
cargo fmt --check

# Both lints run without the webgpu feature: checking wgpu, naga and cubecl once more would
# cost CI more than 2 minutes of the 4 this stage takes. That leaves the code behind the
# feature (src/gpu.rs, the WebGPU tests: ~300 lines) to the browser tests below, which compile
# and run it, and to `cargo clippy --all-targets --target wasm32-unknown-unknown --features
# webgpu` by hand before committing a change to it.
step "clippy (native)"
cargo clippy --all-targets -- -D warnings
step "clippy (wasm32)"
cargo clippy --all-targets --target wasm32-unknown-unknown -- -D warnings

# With the compute peer (`remote`: burn's remote backend and Iroh's relay, ~250 more crates),
# which only this stage builds; clippy leaves src/remote.rs to `cargo clippy --all-targets
# --features remote` by hand, as it leaves the WebGPU code. The `kindling` command it builds is
# the one pkg-tests/native.test.mjs and remote.test.mjs run.
step "native tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --lib --test native --features remote --no-fail-fast
else
  # Without nextest's process per test, tests sharing burn's CPU RNG must not overlap.
  cargo test --lib --test native --features remote -- --test-threads=1
fi

# Built by cargo, then run by wasm-bindgen-test-runner (wasm32's runner in .cargo/config.toml),
# headless, with Debian's ChromeDriver. Cargo holds its build lock only while it compiles, and
# Chromium running the tests leaves most of a core idle, so pkg/ and pkg-remote/ build beside
# them; pkg-webgpu/ follows (it reuses the tests' build). Should a test fail, those builds stop.
step "wasm tests in headless Chromium (CPU and WebGPU), pkg/ and pkg-remote/ built beside them"
wasm_test_targets=(web gpu_lost)
mapfile -t wasm_tests < <(
  cargo test --release --target wasm32-unknown-unknown --features webgpu \
    "${wasm_test_targets[@]/#/--test=}" --no-run --message-format=json-render-diagnostics |
    node -e 'for (const line of require("fs").readFileSync(0, "utf8").split("\n")) {
      const message = line.startsWith("{") ? JSON.parse(line) : {};
      if (message.profile?.test && message.executable) console.log(message.executable);
    }'
)
if [ ${#wasm_tests[@]} -ne ${#wasm_test_targets[@]} ]; then
  echo "the wasm tests did not build (above)" >&2
  exit 1
fi
builds_log=$(mktemp)
bash scripts/build.sh cpu remote >"$builds_log" 2>&1 &
builds=$!
for wasm in "${wasm_tests[@]}"; do
  CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}" WASM_BINDGEN_TEST_TIMEOUT=300 \
    wasm-bindgen-test-runner "$wasm" || { pkill -P "$builds"; kill "$builds"; exit 1; }
done
step "build pkg-webgpu/ (pkg/ and pkg-remote/ finishing)"
wait "$builds" || { cat "$builds_log"; exit 1; }
cat "$builds_log" && rm "$builds_log"
bash scripts/build.sh webgpu

# The page's JavaScript against its JSDoc types and the engine's pkg/kindling.d.ts (just built),
# both import graphs for cycles, one set of features for the three wasm builds (Cargo.toml), and
# Biome's lint and format check over www/, pkg-tests/, bench/ and scripts/ (biome.jsonc;
# read-only, warnings fail too: `npx biome check --write` fixes most): a few seconds.
step "types, imports and lint (tsc --strict over www/; no import cycle in src/ or www/; the wasm builds' features; Biome: JS lint and format)"
bash scripts/npm-install.sh
npx tsc -p tsconfig.json
npx tsc -p pkg-tests/tsconfig.json
node scripts/check-imports.mjs
node scripts/check-features.mjs
npx biome ci --colors=off --error-on-warnings

step "pkg-tests (the built package and the page in Chromium; a core set in Firefox and WebKit)"
bash pkg-tests/run.sh

echo; echo "All checks passed."
