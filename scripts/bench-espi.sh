#!/usr/bin/env bash
# Benchmarks the streamed ESPI subscription feed of the reference
# DataCustodian: a subscription of 3 electricity meters x 2 years of
# 15-minute readings (3 x 70,080 IntervalReadings in 3 x 730 daily
# IntervalBlocks, plus 2 years of monthly bills) is fetched with curl; the
# script prints the size, the time, MB/s and the server's peak memory
# (VmHWM, reset after seeding so it measures serving, not seeding).
#   BENCH_RUNS (3): sequential fetches; BENCH_PARALLEL (4): concurrent ones.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
runs="${BENCH_RUNS:-3}"
parallel="${BENCH_PARALLEL:-4}"

step "cargo build --release -p datacustodian"
cargo build --release -p datacustodian --quiet
bin="$TARGET_DIR/release/datacustodian"

work="$(mktemp -d)"
db="sqlite://$work/bench.sqlite"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
pid=""
cleanup() { [[ -n "$pid" ]] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; rm -rf "$work"; }
trap cleanup EXIT

# A trusted script client (password grant, opt-in) and a customer with three
# electricity meters; `serve --demo` seeds two years of usage for every
# meter without readings.
client="$("$bin" client add --database "$db" --name "Bench" --redirect-uri https://example.com/cb \
  --grant-type password --grant-type client_credentials)"
cid="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["client_id"])' "$client")"
csecret="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["client_secret"])' "$client")"
"$bin" customer add --database "$db" --username bench --password bench-password-123 \
  --meter BENCH-1=House --meter BENCH-2=Garage --meter BENCH-3=Workshop \
  --service-kind BENCH-1=electricity --service-kind BENCH-2=electricity --service-kind BENCH-3=electricity >/dev/null

step "serve --demo (seeding two years of usage)"
t0=$(date +%s.%N)
RUST_LOG=warn "$bin" serve --listen "127.0.0.1:$port" --public-url "$base" --database "$db" \
  --otp-outbox "$work/outbox.jsonl" --demo >"$work/stdout" 2>"$work/stderr" &
pid=$!
for _ in $(seq 1 600); do
  curl -fsS -o /dev/null "$base/.well-known/oauth-authorization-server" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/stderr"; echo "bench-espi: the server exited" >&2; exit 1; }
  sleep 0.1
done
printf 'seeded and listening after %.1f s\n' "$(echo "$(date +%s.%N) - $t0" | bc -l)"

scope="FB=1_4_5_16;IntervalDuration=900;HistoryLength=63072000"
tok="$(curl -fsS -u "$cid:$csecret" "$base/oauth/token" -d grant_type=password \
  -d username=bench -d password=bench-password-123 --data-urlencode "scope=$scope")"
at="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["access_token"])' "$tok")"
url="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["resourceURI"])' "$tok")"

rss() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pid/status"; }
before=$(rss VmRSS)
# Reset the peak-RSS mark (Linux: clear_refs 5) so the peak is the serving's.
echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || echo "(cannot reset VmHWM: the peak includes seeding)"

step "GET Batch/Subscription ($runs sequential runs)"
for i in $(seq 1 "$runs"); do
  out="$(curl -fsS -o "$work/feed.xml" -w '%{size_download} %{time_total} %{time_starttransfer}' \
    -H "Authorization: Bearer $at" "$url")"
  read -r size total first <<<"$out"
  printf 'run %d: %.1f MB in %.2f s = %.1f MB/s (first byte after %.3f s)\n' "$i" \
    "$(echo "$size / 1000000" | bc -l)" "$total" "$(echo "$size / 1000000 / $total" | bc -l)" "$first"
done
readings=$(grep -o '<espi:IntervalReading>' "$work/feed.xml" | wc -l)
blocks=$(grep -o '<espi:IntervalBlock>' "$work/feed.xml" | wc -l)
bills=$(grep -o '<espi:UsageSummary>' "$work/feed.xml" | wc -l)
echo "feed: $readings IntervalReadings in $blocks IntervalBlocks, $bills UsageSummaries"

step "GET Batch/Subscription ($parallel at once)"
t0=$(date +%s.%N)
fetchers=()
for _ in $(seq 1 "$parallel"); do
  curl -fsS -o /dev/null -H "Authorization: Bearer $at" "$url" &
  fetchers+=($!)
done
for f in "${fetchers[@]}"; do wait "$f"; done
elapsed=$(echo "$(date +%s.%N) - $t0" | bc -l)
size=$(stat -c %s "$work/feed.xml")
printf '%d concurrent: %.1f MB in %.2f s = %.1f MB/s\n' "$parallel" \
  "$(echo "$parallel * $size / 1000000" | bc -l)" "$elapsed" "$(echo "$parallel * $size / 1000000 / $elapsed" | bc -l)"

echo
echo "server RSS before the fetches: $((before / 1024)) MiB; peak while serving (VmHWM): $(( $(rss VmHWM) / 1024 )) MiB; feed size $((size / 1024 / 1024)) MiB"
echo "machine: $(nproc) CPU(s), $(uname -m)"
