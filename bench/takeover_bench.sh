#!/usr/bin/env bash
# The takeover time of a 1M-row session (bench/README.md, "Several
# replicas"): a throwaway PostgreSQL 15 cluster in a temporary directory
# (initdb, pg_ctl on a free loopback port; as the user nobody when run as
# root, since PostgreSQL refuses root), an empty database, then
# takeover-bench (bench/takeover_bench.cc) on it: two aadd replicas, a
# 1,048,576 x 32 session on A, SIGKILL A, time until B serves it.
#   bench/takeover_bench.sh [BUILD_DIR] [takeover-bench flags...]
#   e.g. bench/takeover_bench.sh build/release --lease_seconds=10
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/release}"
shift || true
bench="$build/bench/takeover-bench"
pg=/usr/lib/postgresql/15/bin
[ -x "$bench" ] || { echo "takeover_bench.sh: no $bench (ninja -C $build takeover-bench)" >&2; exit 1; }
[ -x "$pg/initdb" ] || {
  echo "takeover_bench.sh: PostgreSQL 15 is not installed: scripts/install-deps.sh" >&2
  exit 1
}

tmp="$(mktemp -d "${TMPDIR:-/tmp}/aadd-takeover.XXXXXX")"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown nobody "$tmp"
  as_pg=(runuser -u nobody --)
fi
cleanup() {
  local rc=$? f
  if [ "$rc" -ne 0 ]; then
    for f in "$tmp"/A.log "$tmp"/B.log; do
      [ -f "$f" ] || continue
      echo "--- $f (last lines)" >&2
      tail -n 20 "$f" >&2
    done
  fi
  "${as_pg[@]}" "$pg/pg_ctl" -D "$tmp/data" stop -m fast -w >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/socket"
[ "${#as_pg[@]}" -eq 0 ] || chown nobody "$tmp/socket"
"${as_pg[@]}" "$pg/initdb" -D "$tmp/data" -U aadd --auth=trust -E UTF8 --no-locale \
  >"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; exit 1; }
# A random loopback port; another one when it is taken.
port=""
for attempt in $(seq 10); do
  candidate=$((20000 + RANDOM % 40000))
  if "${as_pg[@]}" "$pg/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w \
    -o "-p $candidate -k $tmp/socket -c listen_addresses=127.0.0.1" start >/dev/null; then
    port="$candidate"
    break
  fi
done
[ -n "$port" ] || { cat "$tmp/server.log" >&2; exit 1; }
"${as_pg[@]}" "$pg/psql" -h 127.0.0.1 -p "$port" -U aadd -d postgres -q \
  -c "CREATE DATABASE takeover" >/dev/null
echo "PostgreSQL 15 on 127.0.0.1:$port (fsync on, as shipped)" >&2
"$bench" --postgres="postgresql://aadd@127.0.0.1:$port/takeover" --dir="$tmp" "$@"
