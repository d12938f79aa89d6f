#!/usr/bin/env bash
# Benchmarks the reference DataCustodian with wrk: requests per second of the
# token endpoint (client_credentials, HTTP Basic: a client-secret check, a new
# 256-bit token, its keyed hash written durably to the database) against the
# server's cheapest endpoint (the RFC 8414 metadata, a static document), and
# the ratio of the two, side by side on SQLite and on PostgreSQL, with one
# server process and with two on the same database (wrk drives both at once,
# half the connections each; the figures are the sums).
#
#   scripts/bench-server.sh [--database postgres://USER@HOST:PORT/DB]
#
# Without --database, a throwaway PostgreSQL cluster is started for the run
# (scripts/with-postgres.sh). With it, tokens are added to that database.
#   BENCH_DURATION (10s), BENCH_THREADS (2), BENCH_CONNECTIONS (32),
#   BENCH_LOG (warn: the per-request log line is off during the run; set
#   info to include it).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
pg_url=""
while (($#)); do
  case "$1" in
    --database) pg_url="${2:?--database needs a URL}"; shift 2 ;;
    --database=*) pg_url="${1#--database=}"; shift ;;
    *) echo "usage: $0 [--database postgres://USER@HOST:PORT/DB]" >&2; exit 2 ;;
  esac
done
case "$pg_url" in
  "") ;;
  postgres://* | postgresql://*) ;;
  *) echo "bench-server: --database must be a postgres:// URL (SQLite is always measured)" >&2; exit 2 ;;
esac
if [[ -z "$pg_url" ]]; then
  if [[ -n "${BENCH_PG_CHILD:-}" ]]; then
    pg_url="$DATACUSTODIAN_TEST_DATABASE"
  else
    BENCH_PG_CHILD=1 WITH_POSTGRES_DURABLE=1 exec "$ROOT/scripts/with-postgres.sh" "$0"
  fi
fi
duration="${BENCH_DURATION:-10s}"
threads="${BENCH_THREADS:-2}"
conns="${BENCH_CONNECTIONS:-32}"
command -v wrk >/dev/null || { echo "bench-server: wrk is missing (apt-get install wrk)" >&2; exit 1; }

step "cargo build --release -p datacustodian"
cargo build --release -p datacustodian --quiet
bin="$TARGET_DIR/release/datacustodian"

work="$(mktemp -d)"
pids=()
stop_servers() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
cleanup() { stop_servers; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_server DATABASE_URL -> starts `serve --demo` on a free port, sets
# BASE and SECRET once it answers (the demo seed is idempotent: the second
# instance finds the first one's rows).
start_server() {
  local db="$1" port log
  port="$(free_port)"
  BASE="http://127.0.0.1:$port"
  log="$work/server-$port"
  RUST_LOG="${BENCH_LOG:-warn}" "$bin" serve --listen "127.0.0.1:$port" --database "$db" \
    --key-file "$work/bench.key" --otp-outbox "$work/outbox.jsonl" --demo \
    >"$log.out" 2>"$log.err" &
  pids+=($!)
  local ok=""
  for _ in $(seq 1 200); do
    if curl -fsS -o /dev/null "$BASE/.well-known/oauth-authorization-server" 2>/dev/null; then ok=1; break; fi
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "$ok" ]] || { cat "$log.err" >&2; echo "bench-server: the server on $db did not start" >&2; exit 1; }
  for _ in $(seq 1 50); do grep -q "client_secret " "$log.out" && break; sleep 0.1; done
  SECRET="$(sed -n 's/.*client_secret \([^ ]*\).*/\1/p' "$log.out" | head -1)"
  [[ -n "$SECRET" ]] || { cat "$log.out" >&2; echo "bench-server: no demo secret printed" >&2; exit 1; }
}

# wrk_rps CONNECTIONS THREADS URL [wrk args...] -> prints req/s (fails on non-2xx)
wrk_rps() {
  local c="$1" t="$2"; shift 2
  local out
  out="$(wrk -t"$t" -c"$c" -d"$duration" "$@")"
  echo "$out" >>"$work/wrk.log"
  if grep -q "Non-2xx" <<<"$out"; then
    echo "$out" >&2
    echo "bench-server: non-2xx responses" >&2
    exit 1
  fi
  awk '/^Requests\/sec:/ { print $2 }' <<<"$out"
}

# measure BASE... -> sets META and TOKEN: the sum over the bases, wrk on each
# at once with an equal share of the connections and threads.
measure() {
  local n=$# base i
  local c=$((conns / n)) t=$((threads / n))
  ((t >= 1)) || t=1
  local basic
  basic="$(printf '%s' "demo-third-party:$SECRET" | base64 -w0)"
  cat >"$work/token.lua" <<LUA
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $basic"
LUA
  for base in "$@"; do
    # Sanity: the token call really succeeds before we measure it.
    curl -fsS -o /dev/null -H "Authorization: Basic $basic" -d grant_type=client_credentials "$base/oauth/token"
  done
  for what in meta token; do
    i=0
    local runs=()
    for base in "$@"; do
      rm -f "$work/rps.$i"
      if [[ $what == meta ]]; then
        wrk_rps "$c" "$t" "$base/.well-known/oauth-authorization-server" >"$work/rps.$i" &
      else
        wrk_rps "$c" "$t" -s "$work/token.lua" "$base/oauth/token" >"$work/rps.$i" &
      fi
      runs+=($!)
      i=$((i + 1))
    done
    # (Only the wrk runs: the servers are background jobs too.)
    wait "${runs[@]}"
    local sum=0 j
    for ((j = 0; j < i; j++)); do
      [[ -s "$work/rps.$j" ]] || { echo "bench-server: a wrk run failed" >&2; exit 1; }
      sum="$(echo "$sum + $(cat "$work/rps.$j")" | bc -l)"
    done
    if [[ $what == meta ]]; then META="$sum"; else TOKEN="$sum"; fi
  done
}

rows=()
# bench NAME DATABASE_URL INSTANCES
bench() {
  local name="$1" db="$2" n="$3" bases=() k
  step "$name, $n instance(s): wrk -t$threads -c$conns -d$duration (split over the instances)"
  for ((k = 0; k < n; k++)); do
    start_server "$db"
    bases+=("$BASE")
  done
  measure "${bases[@]}"
  stop_servers
  rows+=("$(printf '%-10s %9d %16.0f %13.0f %8.3f' "$name" "$n" "$META" "$TOKEN" "$(echo "$TOKEN / $META" | bc -l)")")
  echo "${rows[-1]}"
}

sqlite_db="sqlite://$work/bench.sqlite"
bench sqlite "$sqlite_db" 1
bench sqlite "$sqlite_db" 2
bench postgres "$pg_url" 1
bench postgres "$pg_url" 2

echo
printf '%-10s %9s %16s %13s %8s\n' store instances "metadata req/s" "token req/s" "ratio"
printf '%s\n' "${rows[@]}"
echo "PostgreSQL: ${pg_url%%\?*}"
echo "each token is a durable commit (SQLite: synchronous=FULL, WAL; PostgreSQL: the server's settings$([[ -n "${BENCH_PG_CHILD:-}" ]] && echo ', here a throwaway cluster with the durable defaults'))"
echo "machine: $(nproc) CPU(s), $(uname -m); wrk -t$threads -c$conns -d$duration per row; RUST_LOG=${BENCH_LOG:-warn}"
