#!/usr/bin/env bash
# Checks the README's demo command: starts scripts/demo.sh on a free loopback
# port with a throw-away SQLite file, then loads its pages in headless
# Chromium and checks they render.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
work="$(mktemp -d)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log="$work/demo.log"
DEMO_LISTEN="127.0.0.1:$port" DEMO_DATABASE="sqlite://$work/demo.sqlite" DEMO_OUTBOX="$work/outbox.jsonl" \
  setsid "$ROOT/scripts/demo.sh" >"$log" 2>&1 &
pid=$!
cleanup() { kill -- -"$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 600); do
  curl -fsS -o /dev/null "$base/.well-known/oauth-authorization-server" 2>/dev/null && break
  if ! kill -0 "$pid" 2>/dev/null; then cat "$log"; echo "check-demo: the demo exited" >&2; exit 1; fi
  sleep 1
done
grep -q "$base" "$log" || { cat "$log"; echo "check-demo: the demo did not print its URL" >&2; exit 1; }
grep -qi "password" "$log" || { cat "$log"; echo "check-demo: the demo did not print credentials" >&2; exit 1; }

render() { # render URL -> DOM after scripts ran
  timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/chrome-$RANDOM" --virtual-time-budget=10000 --dump-dom "$1" 2>/dev/null
}
# The demo prints the authorization URL of its demo third party first.
url="$(grep -o "$base/oauth/authorize?[^[:space:]]*" "$log" | head -1)"
[[ -n "$url" ]] || { cat "$log"; echo "check-demo: no demo authorization URL printed" >&2; exit 1; }
dom="$(render "$url")"
if ! grep -q 'Sign in' <<<"$dom"; then
  echo "$dom" | head -50
  echo "check-demo: the consent page did not render its sign-in step" >&2
  exit 1
fi
echo "check-demo: $url renders the consent widget in headless Chromium"
