# Sourced by the other scripts: one place for paths and pinned tool versions.
# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
TRUNK_VERSION="0.21.14"
WASM_OPT_VERSION="132"
# The good wasm-opt (npm binaryen) must come before Debian's binaryen 108,
# which silently breaks the app (see shared/docs/toolchain.md).
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
# Trunk must never download a tool: a version mismatch is an error instead.
export TRUNK_OFFLINE=true
# CI clones afresh each run; keep build output outside the clone so a later
# run on the same machine is warm. A cold run works the same, only slower.
if [[ -n "${CI:-}" && -z "${CARGO_TARGET_DIR:-}" ]]; then
  export CARGO_TARGET_DIR="$HOME/.cache/green-button-consent/target"
fi
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export TARGET_DIR

# The wasm-bindgen version the lockfile resolved; the CLI must match it exactly.
wasm_bindgen_lock_version() {
  awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/"/, "", $3); print $3; exit }' "$ROOT/Cargo.lock"
}

step() { printf '\n==> %s\n' "$*"; }
