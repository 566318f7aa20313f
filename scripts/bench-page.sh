# Sourced by the in-browser benchmarks (bench-browser.sh, bench-webgpu.sh): reads --no-build and
# --help from "$@" and leaves the other arguments in `args`; checks the training text (`data`),
# installs Chromium and the npm packages when missing, and builds pkg/ and pkg-webgpu/ unless
# --no-build. `name` is the calling script's name, for messages.
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
args=()
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) args+=("$arg") ;;
  esac
done

data="${KINDLING_DATA:-../shared/data/tinyshakespeare.txt}"
if [ ! -f "$data" ]; then
  echo "$name: no training text at $data (set KINDLING_DATA)" >&2
  exit 1
fi
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "[bench] installing Debian's chromium" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium mesa-vulkan-drivers >/dev/null
fi
bash scripts/npm-install.sh
if [ "$build" = 1 ]; then
  echo "[bench] building pkg/ and pkg-webgpu/ (scripts/build.sh)" >&2
  bash scripts/build.sh >&2
elif [ ! -f pkg/kindling_bg.wasm ] || [ ! -f pkg-webgpu/kindling_bg.wasm ]; then
  echo "$name: pkg/ or pkg-webgpu/ is not built (drop --no-build, or run scripts/build.sh)" >&2
  exit 1
fi
