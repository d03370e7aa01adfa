#!/usr/bin/env bash
# Durable ingest and feedback rounds through aadd on its two durable stores,
# in one run (bench/README.md, "PostgreSQL against SQLite (issue 15)"): aadd
# on SQLite in a temporary --data_dir, then aadd on a throwaway PostgreSQL
# 15 cluster (bench/pg_cluster.sh), each measured by client-bench over
# loopback: Ingest rows/s (every batch committed before its reply), single
# row Score latency, and SubmitLabels-with-wait_for_model rounds.
#   bench/stores_bench.sh [BUILD_DIR] [client-bench flags...]
#   e.g. bench/stores_bench.sh build/release --rows=1000000 --label_rounds=50
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/release}"
shift || true
aadd="$build/server/aadd"
bench="$build/bench/client-bench"
for b in "$aadd" "$bench"; do
  [ -x "$b" ] || { echo "stores_bench.sh: no $b (ninja -C $build aadd client-bench)" >&2; exit 1; }
done
source "$root/bench/pg_cluster.sh"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/aadd-stores.XXXXXX")"
aadd_pid=""
cleanup() {
  local rc=$?
  [ -z "$aadd_pid" ] || kill -TERM "$aadd_pid" 2>/dev/null || true
  [ "$rc" -eq 0 ] || tail -n 20 "$tmp"/aadd-*.log >&2 2>/dev/null || true
  pg_cluster_stop "$tmp"
  rm -rf "$tmp"
}
trap cleanup EXIT
pg_cluster_start "$tmp" bench

# measure NAME AADD_FLAGS...: one aadd on a free port, client-bench on it.
measure() {
  local name="$1" log="$tmp/aadd-$1.log" port="" i
  shift
  "$aadd" --port=0 --http_port=0 --drain_seconds=0 --nometrics "$@" 2>"$log" &
  aadd_pid=$!
  for i in $(seq 600); do
    port="$(sed -n 's/.*listening on port \([0-9][0-9]*\).*/\1/p' "$log" | head -n 1)"
    [ -z "$port" ] || break
    kill -0 "$aadd_pid" 2>/dev/null || { cat "$log" >&2; return 1; }
    sleep 0.05
  done
  [ -n "$port" ] || { echo "aadd ($name) did not listen" >&2; return 1; }
  echo "$name: $("$bench" --server="127.0.0.1:$port" --dims=32 --label_rounds=50 "${cli_flags[@]}")"
  kill -TERM "$aadd_pid"
  wait "$aadd_pid"
  aadd_pid=""
}

cli_flags=("$@")
measure sqlite --data_dir="$tmp/sqlite"
measure postgresql --store="postgresql://aadd@127.0.0.1:$pg_port/bench" --replica_id=bench
