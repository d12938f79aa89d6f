#!/usr/bin/env bash
# Brings a fresh Debian machine with the Rust toolchain to a working state.
# Idempotent: does nothing when everything is already present.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

# Debian packages: the browser and its driver for UI tests, brotli for the
# size report, wrk for the server benchmark, xmllint (libxml2-utils) for
# the ESPI schema checks and PostgreSQL for the server tests' second store.
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v brotli >/dev/null || missing+=(brotli)
command -v wrk >/dev/null || missing+=(wrk)
command -v xmllint >/dev/null || missing+=(libxml2-utils)
# PostgreSQL for the server tests' second store (scripts/with-postgres.sh).
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
# Python with venv for the mail tests' SMTP server (aiosmtpd from PyPI).
command -v python3 >/dev/null || missing+=(python3)
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
if ((${#missing[@]})); then
  step "apt-get install ${missing[*]}"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
rustup component list --installed | grep -q '^clippy' || rustup component add clippy rustfmt

# Trunk 0.21.14 is the last release that builds on rustc 1.95.
if [[ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]]; then
  step "cargo install trunk $TRUNK_VERSION"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

# wasm-bindgen CLI (and its test runner) at exactly the lockfile's version.
[[ -f Cargo.lock ]] || cargo generate-lockfile
wb="$(wasm_bindgen_lock_version)"
if [[ -z "$wb" ]]; then
  echo "setup: no wasm-bindgen in Cargo.lock" >&2
  exit 1
fi
if ! grep -q "^wasm_bindgen = \"$wb\"" Trunk.toml; then
  echo "setup: Trunk.toml pins a wasm_bindgen other than Cargo.lock's $wb; update [tools] in Trunk.toml" >&2
  exit 1
fi
if [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wb" ]]; then
  step "cargo install wasm-bindgen-cli $wb"
  # Not --locked: its lockfile names a crate version the index lacks.
  cargo install wasm-bindgen-cli --version "$wb"
fi

# aiosmtpd (PyPI), pinned by scripts/requirements-test.txt, in a venv of
# its own: the SMTP server the mail tests send to on loopback.
pystamp="target/pyenv/.setup-stamp"
pywant="$(sha256sum scripts/requirements-test.txt | cut -d' ' -f1)"
if [[ "$(cat "$pystamp" 2>/dev/null)" != "$pywant" ]]; then
  step "pip install -r scripts/requirements-test.txt (target/pyenv)"
  python3 -m venv target/pyenv
  target/pyenv/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
  echo "$pywant" >"$pystamp"
fi

# npm tools pinned by package-lock.json: wasm-opt 132 (binaryen), axe-core and
# oidc-provider (the OpenID Connect provider the sign-in tests run on loopback).
stamp="node_modules/.setup-stamp"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  step "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi
if [[ "$(wasm-opt --version 2>/dev/null)" != "wasm-opt version $WASM_OPT_VERSION "* ]]; then
  echo "setup: wasm-opt on PATH is not version $WASM_OPT_VERSION: $(command -v wasm-opt)" >&2
  exit 1
fi
