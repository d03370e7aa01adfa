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
[ -x "$bench" ] || { echo "takeover_bench.sh: no $bench (ninja -C $build takeover-bench)" >&2; exit 1; }
source "$root/bench/pg_cluster.sh"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/aadd-takeover.XXXXXX")"
cleanup() {
  local rc=$? f
  if [ "$rc" -ne 0 ]; then
    for f in "$tmp"/A.log "$tmp"/B.log; do
      [ -f "$f" ] || continue
      echo "--- $f (last lines)" >&2
      tail -n 20 "$f" >&2
    done
  fi
  pg_cluster_stop "$tmp"
  rm -rf "$tmp"
}
trap cleanup EXIT

pg_cluster_start "$tmp" takeover
"$bench" --postgres="postgresql://aadd@127.0.0.1:$pg_port/takeover" --dir="$tmp" "$@"
