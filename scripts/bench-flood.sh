#!/usr/bin/env bash
# Floods the reference DataCustodian's password sign-in while timing the
# token endpoint and a signed-in customer's decision (issue 10: under a
# flood, the token endpoint and a customer's decision keep answering).
#
# Builds the server and the flood client (crates/datacustodian/examples/
# flood.rs) in release, starts `serve --demo` on a temporary SQLite file on a
# loopback port with its default limits and `--trusted-proxy 127.0.0.1` (so
# the flood's X-Forwarded-For gives every attacker request its own client
# address: the per-IP limit alone cannot stop it, the hash bound and the
# global limit must), and runs three phases: quiet, flood, quiet.
#   FLOOD_SECONDS (10): length of each phase
#   FLOOD_WORKERS (64): concurrent attackers
#   FLOOD_SERVER_ARGS: extra `serve` flags (e.g. "--rate-limit-global off")
#   FLOOD_BIN: a datacustodian binary to run instead of building one (e.g. an
#     older build, for a before/after comparison; it must accept the flags
#     given, so pass FLOOD_PLAIN=1 for one without the abuse flags)
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
seconds="${FLOOD_SECONDS:-10}"
workers="${FLOOD_WORKERS:-64}"

step "cargo build --release -p datacustodian (server and flood client)"
cargo build --release -p datacustodian --bins --example flood --quiet
bin="${FLOOD_BIN:-$TARGET_DIR/release/datacustodian}"
flood="$TARGET_DIR/release/examples/flood"

work="$(mktemp -d)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
extra=()
if [[ -z "${FLOOD_PLAIN:-}" ]]; then
  extra=(--trusted-proxy 127.0.0.1)
fi
# shellcheck disable=SC2086
RUST_LOG="${BENCH_LOG:-warn}" "$bin" serve --listen "127.0.0.1:$port" --database "sqlite://$work/flood.sqlite" \
  --otp-outbox "$work/outbox.jsonl" --demo "${extra[@]}" ${FLOOD_SERVER_ARGS:-} >"$work/stdout" 2>"$work/stderr" &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "$base/.well-known/oauth-authorization-server" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/stderr"; echo "bench-flood: the server exited" >&2; exit 1; }
  sleep 0.1
done
secret="$(sed -n 's/.*client_secret \([^ ]*\).*/\1/p' "$work/stdout" | head -1)"
[[ -n "$secret" ]] || { cat "$work/stdout"; echo "bench-flood: no demo secret printed" >&2; exit 1; }

step "flood: $workers attackers, $seconds s per phase"
"$flood" "$base" "$secret" "$seconds" "$workers"
echo
echo "server: $bin ${extra[*]} ${FLOOD_SERVER_ARGS:-}"
echo "machine: $(nproc) CPU(s), $(uname -m); argon2id m=19 MiB t=2 p=1"
