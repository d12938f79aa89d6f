#!/usr/bin/env bash
# Benchmarks the reference DataCustodian with wrk: requests per second of the
# token endpoint (client_credentials, HTTP Basic: a client-secret check, a new
# 256-bit token, its keyed hash written durably to SQLite) against the
# server's cheapest endpoint (the RFC 8414 metadata, a static document), and
# the ratio of the two.
#   BENCH_DURATION (10s), BENCH_THREADS (2), BENCH_CONNECTIONS (32),
#   BENCH_LOG (warn: the per-request log line is off during the run; set
#   info to include it).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
duration="${BENCH_DURATION:-10s}"
threads="${BENCH_THREADS:-2}"
conns="${BENCH_CONNECTIONS:-32}"
command -v wrk >/dev/null || { echo "bench-server: wrk is missing (apt-get install wrk)" >&2; exit 1; }

step "cargo build --release -p datacustodian"
cargo build --release -p datacustodian --quiet
bin="$TARGET_DIR/release/datacustodian"

work="$(mktemp -d)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
RUST_LOG="${BENCH_LOG:-warn}" "$bin" serve --listen "127.0.0.1:$port" --database "sqlite://$work/bench.sqlite" \
  --otp-outbox "$work/outbox.jsonl" --demo >"$work/stdout" 2>"$work/stderr" &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "$base/.well-known/oauth-authorization-server" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/stderr"; echo "bench-server: the server exited" >&2; exit 1; }
  sleep 0.1
done
secret="$(sed -n 's/.*client_secret \([^ ]*\).*/\1/p' "$work/stdout" | head -1)"
[[ -n "$secret" ]] || { cat "$work/stdout"; echo "bench-server: no demo secret printed" >&2; exit 1; }
basic="$(printf '%s' "demo-third-party:$secret" | base64 -w0)"

# Sanity: the token call really succeeds before we measure it.
curl -fsS -o /dev/null -H "Authorization: Basic $basic" -d grant_type=client_credentials "$base/oauth/token"

cat >"$work/token.lua" <<EOF
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $basic"
EOF

run() { # run NAME ARGS... -> prints wrk's report, sets RPS
  local name="$1"; shift
  step "wrk -t$threads -c$conns -d$duration $name"
  local out
  out="$(wrk -t"$threads" -c"$conns" -d"$duration" "$@")"
  echo "$out"
  if grep -q "Non-2xx" <<<"$out"; then
    echo "bench-server: $name had non-2xx responses" >&2
    exit 1
  fi
  RPS="$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")"
}

run "GET /.well-known/oauth-authorization-server" "$base/.well-known/oauth-authorization-server"
meta_rps="$RPS"
run "POST /oauth/token (client_credentials)" -s "$work/token.lua" "$base/oauth/token"
token_rps="$RPS"

issued=$(sqlite3 "$work/bench.sqlite" 'SELECT COUNT(*) FROM tokens' 2>/dev/null || echo "?")
echo
printf 'metadata (cheapest endpoint): %10.0f req/s\n' "$meta_rps"
printf 'token (client_credentials):   %10.0f req/s\n' "$token_rps"
printf 'ratio token / metadata:       %10.3f\n' "$(echo "$token_rps / $meta_rps" | bc -l)"
echo "tokens stored during the run: $issued (each a durable SQLite commit)"
echo "machine: $(nproc) CPU(s), $(uname -m); wrk -t$threads -c$conns -d$duration; RUST_LOG=${BENCH_LOG:-warn}"
