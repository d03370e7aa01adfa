#!/usr/bin/env bash
# The demo: installs what is missing, builds aadd, starts the server on its
# embedded store in a data directory, runs the whole active-learning loop over
# gRPC with a simulated expert (aadctl simulate), prints the discovery curve
# against the unsupervised ranking, then stops the server cleanly.
#
#   scripts/demo.sh                        seeded synthetic clustered anomalies
#   scripts/demo.sh FILE.csv [--label-column label] [--anomaly-value anomaly]
#                            [--budget 100] [--strategy top] [--seed 1]
#
# Environment: AADD_DEMO_DIR (default ./.aadd-demo) holds the server's data
# directory and log; AADD_DEMO_PORT (default 0: a free port) is the gRPC
# port, AADD_DEMO_HTTP_PORT (default -1: a free port) the HTTP one (JSON API
# and labelling page).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

case "${1:-}" in
  -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
# An optional CSV first; every other argument goes to aadctl simulate as is.
csv=""
if [ $# -gt 0 ] && [[ "$1" != -* ]]; then csv="$1"; shift; fi
sim_args=("$@")
budget_given=0
for a in "$@"; do
  case "$a" in --budget|--budget=*) budget_given=1 ;; esac
done
if [ -n "$csv" ]; then
  [ -r "$csv" ] || { echo "demo.sh: cannot read CSV file '$csv'" >&2; exit 2; }
  csv="$(cd "$(dirname "$csv")" && pwd)/$(basename "$csv")"
fi

echo "=== installing missing Debian packages (scripts/install-deps.sh)" >&2
"$root/scripts/install-deps.sh"
echo "=== building release: aadd aadctl aad-eval (scripts/build.sh)" >&2
"$root/scripts/build.sh" release aadd aadctl aad-eval
aadd="$root/build/release/server/aadd"
aadctl="$root/build/release/client/aadctl"

demo_dir="${AADD_DEMO_DIR:-$root/.aadd-demo}"
data_dir="$demo_dir/data"
log="$demo_dir/aadd.log"
mkdir -p "$data_dir"

server_pid=""
stop_server() {
  # Stops the server with SIGTERM (a graceful shutdown) and returns its exit status.
  local pid="$server_pid" rc=0
  [ -n "$pid" ] || return 0
  server_pid=""
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" || rc=$?
  return "$rc"
}
trap 'stop_server || true' EXIT
trap 'exit 130' INT TERM

# No load balancer to drain for: SIGTERM stops it at once (--drain_seconds 0).
"$aadd" --port "${AADD_DEMO_PORT:-0}" --http_port "${AADD_DEMO_HTTP_PORT:--1}" \
  --drain_seconds 0 --data_dir "$data_dir" 2>"$log" &
server_pid=$!

# The server logs "listening on port N" (gRPC) once everything is bound,
# after "http listening on port N"; wait for it (30 s).
port=""
for _ in $(seq 300); do
  port="$(sed -n '/http listening/d; s/.*listening on port \([0-9][0-9]*\).*/\1/p; T; q' "$log")"
  [ -n "$port" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "demo.sh: aadd exited at start-up; its log ($log):" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done
[ -n "$port" ] || { echo "demo.sh: aadd did not start listening within 30 s (log: $log)" >&2; exit 1; }
server="localhost:$port"
http_port="$(sed -n 's/.*http listening on port \([0-9][0-9]*\).*/\1/p; T; q' "$log")"

healthy=0
for _ in $(seq 100); do
  if "$aadctl" health --server "$server" >/dev/null 2>&1; then healthy=1; break; fi
  sleep 0.1
done
[ "$healthy" = 1 ] || { echo "demo.sh: aadd at $server is not healthy after 10 s (log: $log)" >&2; exit 1; }
echo "=== aadd (pid $server_pid) is serving gRPC on $server${http_port:+, the JSON API and the labelling page on http://localhost:$http_port/}" >&2

if [ "$budget_given" = 0 ]; then sim_args+=(--budget 100); fi
if [ -n "$csv" ]; then
  echo "=== active loop over gRPC on $csv, simulated expert reading its ground-truth column" >&2
  "$aadctl" simulate --server "$server" --data "$csv" "${sim_args[@]}"
else
  echo "=== active loop over gRPC on seeded synthetic clustered anomalies (2000 rows, 8 features)" >&2
  "$aadctl" simulate --server "$server" --synthetic clustered --rows 2000 --dims 8 --seed 1 \
    "${sim_args[@]}"
fi

cat <<EOF

The curve above counts the anomalies found after each number of rows shown to
the (simulated) expert: the active loop against the top of the unsupervised
ranking of the same detector, with the same budget.

Where the data lives:  $data_dir   (server log: $log)
To run the server yourself and talk to it:
  $aadd --port 50051 --http_port 8080 --data_dir $data_dir &
  $aadctl health
  # the labelling page: http://localhost:8080/ in a browser (sessions, then one session)
  id=\$($aadctl create)
  $aadctl ingest FILE.csv --session \$id --label-column label
  $aadctl train --session \$id
  $aadctl candidates -k 10 --session \$id
  $aadctl label 17=anomaly 42=nominal --session \$id
  $aadctl export \$id session.aads      # and on another server: aadctl import session.aads
(aadctl talks to localhost:50051 unless given --server host:port.)
See README.md for the walk-through.
EOF

echo "=== stopping aadd (SIGTERM)" >&2
rc=0
stop_server || rc=$?
if [ "$rc" -ne 0 ]; then
  echo "demo.sh: aadd exited with status $rc on SIGTERM (log: $log)" >&2
  exit 1
fi
echo "=== aadd stopped cleanly (exit status 0)" >&2
