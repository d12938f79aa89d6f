#!/usr/bin/env bash
# Builds the shipped web bundles in release: the consent widget (dist/) and,
# when present, the scope playground (crates/scope-playground/dist/).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
step "trunk build --release (consent widget -> dist/)"
trunk build --release --offline
if [[ -f crates/scope-playground/Trunk.toml ]]; then
  step "trunk build --release (scope playground -> crates/scope-playground/dist/)"
  (cd crates/scope-playground && trunk build --release --offline)
fi
