#!/usr/bin/env bash
# The CSV ingest path of 1M x 32 rows in its parts, in one run (bench/README.md,
# "Feedback round and ingest at 1M rows"): csv-bench writes the CSV and times
# its parse (aad::ReadCsvFile, as aadctl does), then aadd on SQLite in a
# temporary --data_dir takes `aadctl ingest` of that CSV into new sessions,
# timed end to end (parse, transport, store; every batch committed before its
# reply), and client-bench's Ingest of generated rows (transport and store, no
# parse) on the same aadd. store-bench (server/storage) gives the store alone.
# OTHER_AADCTL, when given (e.g. main's aadctl copied aside before a change),
# runs in turn with BUILD_DIR's in every rep, on the same aadd and file.
#   bench/csv_ingest_bench.sh [BUILD_DIR] [ROWS] [REPS] [OTHER_AADCTL]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/release}"
rows="${2:-1000000}"
reps="${3:-3}"
other="${4:-}"
for b in server/aadd client/aadctl bench/client-bench bench/csv-bench; do
  [ -x "$build/$b" ] || { echo "csv_ingest_bench.sh: no $build/$b (ninja -C $build aadd aadctl client-bench csv-bench)" >&2; exit 1; }
done
tmp="$(mktemp -d "${TMPDIR:-/tmp}/aadd-csv.XXXXXX")"
aadd_pid=""
cleanup() {
  [ -z "$aadd_pid" ] || kill -TERM "$aadd_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "parse: $("$build/bench/csv-bench" --out="$tmp/rows.csv" --rows="$rows" --dims=32 --reps="$reps")"
"$build/server/aadd" --port=0 --http_port=0 --drain_seconds=0 --nometrics \
    --data_dir="$tmp/data" 2>"$tmp/aadd.log" &
aadd_pid=$!
port=""
for i in $(seq 600); do
  port="$(sed -n 's/.*listening on port \([0-9][0-9]*\).*/\1/p' "$tmp/aadd.log" | head -n 1)"
  [ -z "$port" ] || break
  kill -0 "$aadd_pid" 2>/dev/null || { cat "$tmp/aadd.log" >&2; exit 1; }
  sleep 0.05
done
[ -n "$port" ] || { echo "aadd did not listen" >&2; exit 1; }
server="--server=127.0.0.1:$port"
for r in $(seq "$reps"); do
  for aadctl in ${other:+"$other"} "$build/client/aadctl"; do
    id="$("$build/client/aadctl" create "$server")"
    start=$(date +%s%N)
    "$aadctl" ingest "$tmp/rows.csv" --session="$id" "$server" >/dev/null
    end=$(date +%s%N)
    python3 -c "import sys; ns = $end - $start; print(f'aadctl ingest ($aadctl): {ns / 1e9:.2f} s, {$rows / (ns / 1e9):.0f} rows/s')"
    "$build/client/aadctl" delete --session="$id" "$server" >/dev/null
  done
done
echo "transport+store: $("$build/bench/client-bench" "$server" --rows="$rows" --dims=32 \
    --reps="$reps" --score_calls=10 | grep -o '"ingest_rows_per_s":\[[^]]*\]')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
