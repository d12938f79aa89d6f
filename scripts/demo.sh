#!/usr/bin/env bash
# Quick start 1: set up, build the widget, and run the reference
# DataCustodian with demo data on a SQLite file.
#   DEMO_LISTEN (default 127.0.0.1:8080), DEMO_DATABASE (default
#   sqlite://target/demo/demo.sqlite), DEMO_OUTBOX (one-time codes land here).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build-web.sh"
listen="${DEMO_LISTEN:-127.0.0.1:8080}"
mkdir -p "$TARGET_DIR/demo"
database="${DEMO_DATABASE:-sqlite://$TARGET_DIR/demo/demo.sqlite}"
outbox="${DEMO_OUTBOX:-$TARGET_DIR/demo/otp-outbox.jsonl}"
step "cargo build -p datacustodian"
cargo build -p datacustodian --quiet
exec "$TARGET_DIR/debug/datacustodian" serve --listen "$listen" --database "$database" \
  --public-url "${DEMO_PUBLIC_URL:-http://$listen}" --otp-outbox "$outbox" --demo
