#!/usr/bin/env bash
# Side-by-side benchmarks: Kindling (native Flex and CPU wasm in headless Chromium) against
# PyTorch on the baby-GPT step and TF.js 4.22 on the LSTM step, in one run on this machine.
# Prints a Markdown table with ratios and targets and writes the raw figures to
# bench/results/latest.json.
# Not run by CI. Takes ~5 minutes on 2 cores (--full: ~20 more).
#
#   scripts/bench.sh [--full] [--readme] [--no-build] [--skip-native] [--skip-torch]
#                    [--skip-browser] [--skip-tfjs] [--iters N] [--warmup N] [--quick]
#                    [--wait-idle SECONDS]
#
#   --full          also train baby-GPT for all 2000 iterations on each side; report val loss
#   --readme        put the table into docs/benchmarks.md (between the bench markers)
#   --no-build      use pkg/ as it is instead of rebuilding it (scripts/build.sh, incremental ~7 s)
#   --skip-native   leave out the native legs (they build the example with cargo)
#   --skip-torch / --skip-browser / --skip-tfjs   leave out those legs
#   --iters N / --warmup N   baby-GPT iterations timed (>= 50) / left out before timing (10)
#   --quick         few iterations everywhere: checks the harness, measures nothing reliable
#   --wait-idle S   wait up to S seconds for other processes to leave the CPU before starting
#
# Installs what it needs and skips what is there: PyTorch (CPU) into bench/.venv (if it cannot
# be installed, that leg is skipped with the reason), TF.js into bench/node_modules, Debian's
# chromium, npm's playwright-core. Training text: ../shared/data/tinyshakespeare.txt, read in
# place (KINDLING_DATA overrides it).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "[bench] $*" >&2; }

build=1
skip_torch=0
args=()
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    --skip-torch) skip_torch=1; args+=("$arg") ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) args+=("$arg") ;;
  esac
done

data="${KINDLING_DATA:-../shared/data/tinyshakespeare.txt}"
if [ ! -f "$data" ]; then
  echo "bench: no training text at $data (set KINDLING_DATA)" >&2
  exit 1
fi

# --- Chromium and playwright-core (never a downloaded browser) -------------------------------
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  say "installing Debian's chromium"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
bash scripts/npm-install.sh

# --- TF.js 4.22 for the LSTM comparison, served to the page from bench/node_modules ----------
if [ ! -f bench/node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm ]; then
  say "installing TF.js into bench/node_modules"
  (cd bench && npm ci --no-audit --no-fund --silent)
fi

# --- PyTorch (CPU) into bench/.venv (KINDLING_BENCH_VENV elsewhere) ---------------------------
venv="${KINDLING_BENCH_VENV:-bench/.venv}"
torch_python="$venv/bin/python"
torch_problem=""
if [ "$skip_torch" = 0 ] && ! "$torch_python" -c 'import torch' >/dev/null 2>&1; then
  say "installing PyTorch into $venv (first time only; the PyPI wheel pulls ~5 GB)"
  if [ ! -x "$torch_python" ]; then
    python3 -m venv "$venv" || torch_problem="python3 -m venv $venv failed"
  fi
  if [ -z "$torch_problem" ]; then
    # The CPU-only index is much smaller; where it cannot be reached, plain PyPI.
    "$venv/bin/pip" install --quiet --retries 0 --timeout 15 torch \
        --index-url https://download.pytorch.org/whl/cpu >/dev/null 2>&1 ||
      "$venv/bin/pip" install --quiet torch >&2 ||
      torch_problem="pip install torch failed (see its messages above)"
  fi
  if [ -z "$torch_problem" ] && ! "$torch_python" -c 'import torch' >/dev/null 2>&1; then
    torch_problem="torch was installed but does not import"
  fi
  [ -n "$torch_problem" ] && say "PyTorch leg skipped: $torch_problem"
fi

# --- pkg/ (the wasm module the browser legs load) --------------------------------------------
if [ "$build" = 1 ]; then
  say "building pkg/, pkg-webgpu/ and pkg-remote/ (scripts/build.sh)"
  bash scripts/build.sh >&2
elif [ ! -f pkg/kindling_bg.wasm ]; then
  echo "bench: pkg/ is not built (drop --no-build, or run scripts/build.sh)" >&2
  exit 1
fi

command=(scripts/bench.sh "$@")
exec node bench/bench.mjs --data "$data" --torch-python "$torch_python" \
  --torch-problem "$torch_problem" --command "${command[*]}" ${args[@]+"${args[@]}"}
