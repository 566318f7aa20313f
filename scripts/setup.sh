#!/usr/bin/env bash
# Installs what building and testing Kindling needs, skipping whatever is already there.
# Sourced by serve.sh, test.sh and the bench scripts; safe to run on its own.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export PATH="$HOME/.cargo/bin:$PATH"
# One build cache for every clone on this machine, outside the clone: CI builds a fresh clone
# each run, and a second run then reuses what the first built instead of compiling burn and
# wgpu again. Set CARGO_TARGET_DIR to use another (an empty one measures a fresh machine).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kindling/target}"

have() { command -v "$1" >/dev/null 2>&1; }
say() { echo "[setup] $*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32 target"
  rustup target add wasm32-unknown-unknown
fi
if ! rustup component list --installed | grep -q '^rustfmt'; then rustup component add rustfmt; fi
if ! rustup component list --installed | grep -q '^clippy'; then rustup component add clippy; fi

# wasm-bindgen (the JS glue of scripts/build.sh) and wasm-bindgen-test-runner (the browser
# tests' runner, .cargo/config.toml) must be the version of Cargo.lock's wasm-bindgen exactly.
# Installed without --locked (see ../shared/TOOLCHAIN.md). No wasm-pack: it would only run
# these and cargo, and installing it takes a fresh machine 2 minutes.
bindgen_version=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
  say "installing wasm-bindgen-cli $bindgen_version"
  cargo install wasm-bindgen-cli --version "$bindgen_version" --force
fi

# Debian's Chromium (and its SwiftShader WebGPU), ChromeDriver, lavapipe for native wgpu, and
# clang, which compiles ring's C for pkg-remote/ (burn's remote client over Iroh's TLS; rustc
# alone cannot); Firefox ESR, WebKitGTK's WebDriver (with its MiniBrowser) and Xvfb, for the
# core browser tests in every engine (pkg-tests/engines.test.mjs). Never Debian's binaryen: its
# wasm-opt breaks the module.
missing=()
for pkg in chromium chromium-driver mesa-vulkan-drivers clang firefox-esr webkit2gtk-driver xvfb; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

bash scripts/npm-install.sh
