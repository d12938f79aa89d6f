#!/usr/bin/env bash
# Quick start 2: set up and run every test: formatting, lints, native tests
# (scope library, server over loopback HTTP on SQLite, then on PostgreSQL), wasm component tests in
# headless Chromium, browser end-to-end tests, the demo check and the size
# budget. Exits non-zero on the first failure.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
started=$(date +%s)
"$ROOT/scripts/setup.sh"

# Every test runner's output also goes to a log, summed up at the end.
results="$(mktemp)"
trap 'rm -f "$results"' EXIT
run_tests() { "$@" 2>&1 | tee -a "$results"; }

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (native, whole workspace)"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "cargo clippy (wasm32: the widget)"
cargo clippy -p consent-widget --all-targets --target wasm32-unknown-unknown --locked -- -D warnings
cargo clippy -p consent-widget --all-targets --features sharing --target wasm32-unknown-unknown --locked -- -D warnings

"$ROOT/scripts/build-web.sh"

step "native tests (library, CLI, server, browser end-to-end)"
run_tests cargo test --workspace --locked

step "server tests again on PostgreSQL (a throwaway cluster, a fresh database per test)"
run_tests "$ROOT/scripts/with-postgres.sh" cargo test -p datacustodian --tests --locked

step "wasm component tests in headless Chromium"
run_tests cargo test -p consent-widget --features sharing --target wasm32-unknown-unknown --locked

step "demo command serves a page in headless Chromium"
"$ROOT/scripts/check-demo.sh"

step "shipped size"
"$ROOT/scripts/size.sh" --check

echo
echo "All checks passed in $(($(date +%s) - started)) s."
# One closing line for every Rust test run above (native, wasm, e2e).
awk '/^test result:/ {
       for (i = 1; i <= NF; i++) {
         if ($(i) ~ /^passed;?$/) p += $(i - 1)
         if ($(i) ~ /^failed;?$/) f += $(i - 1)
         if ($(i) ~ /^ignored;?$/) g += $(i - 1)
       }
     }
     END { printf "Total: %d passed, %d failed, %d skipped\n", p, f, g }' "$results"
