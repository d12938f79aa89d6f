#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL cluster on a free loopback
# port, with DATACUSTODIAN_TEST_DATABASE=postgres://postgres@127.0.0.1:PORT/postgres
# in its environment (the server tests then run each test on a fresh
# database of that server), and removes the cluster afterwards:
#
#   scripts/with-postgres.sh cargo test -p datacustodian
#
# PostgreSQL comes from Debian's packages (scripts/setup.sh installs them).
# The cluster trades durability for speed (fsync off; WITH_POSTGRES_DURABLE=1
# keeps the durable defaults): it lives for one run.
set -euo pipefail
source "$(dirname "$0")/env.sh"

bindir=""
if command -v pg_config >/dev/null && [[ -x "$(pg_config --bindir)/initdb" ]]; then
  bindir="$(pg_config --bindir)"
else
  bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
fi
if [[ -z "$bindir" || ! -x "$bindir/initdb" ]]; then
  echo "with-postgres: no PostgreSQL server found; run scripts/setup.sh (apt-get install postgresql)" >&2
  exit 1
fi

dir="$(mktemp -d /tmp/dc-pg.XXXXXX)"
as_pg=()
if [[ $(id -u) -eq 0 ]]; then
  # PostgreSQL refuses to run as root: the cluster belongs to `postgres`.
  chown postgres: "$dir"
  as_pg=(runuser -u postgres --)
fi
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    "${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" stop -m fast -s >/dev/null 2>&1 ||
      kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

"${as_pg[@]}" "$bindir/initdb" -D "$dir/data" --auth=trust -U postgres -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
speed=(-c fsync=off -c synchronous_commit=off -c full_page_writes=off)
# WITH_POSTGRES_DURABLE=1 keeps PostgreSQL's durable defaults (benchmarks).
[[ -z "${WITH_POSTGRES_DURABLE:-}" ]] || speed=()
"${as_pg[@]}" "$bindir/postgres" -D "$dir/data" -p "$port" -k "$dir" \
  -c listen_addresses=127.0.0.1 -c max_connections=400 -c shared_buffers=64MB "${speed[@]}" \
  >"$dir/postgres.log" 2>&1 &
pid=$!
ready=""
for _ in $(seq 1 100); do
  if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port"; then ready=1; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$ready" ]]; then
  echo "with-postgres: PostgreSQL did not start:" >&2
  cat "$dir/postgres.log" >&2
  exit 1
fi
export DATACUSTODIAN_TEST_DATABASE="postgres://postgres@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
set +e
"$@"
status=$?
set -e
exit "$status"
