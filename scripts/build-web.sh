#!/usr/bin/env bash
# Builds the shipped web bundles in release: the consent widget (dist/) and,
# when present, the scope playground (crates/scope-playground/dist/).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
step "trunk build --release (consent widget -> dist/)"
trunk build --release --offline
# "Your data sharing" is the same widget with its `sharing` feature, a page
# of its own at /consent/sharing: a customer authorizing never downloads it.
step "trunk build --release sharing.html (your data sharing -> dist/sharing/)"
trunk build --release --offline=true --dist dist/sharing --public-url /consent/sharing/ sharing.html
if [[ -f crates/scope-playground/Trunk.toml ]]; then
  step "trunk build --release (scope playground -> crates/scope-playground/dist/)"
  (cd crates/scope-playground && trunk build --release --offline)
fi
