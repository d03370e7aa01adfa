#!/usr/bin/env bash
# Session-affine routing through Debian's nginx with the shipped
# deploy/nginx/aadd.conf: three aadd replicas on loopback behind one nginx.
# Sessions are created and used through nginx with aadctl (whose client
# library sends x-session-id on every call). Checks that
#  - every call of every session succeeds through the proxy (a call routed
#    to the wrong replica would get NOT_FOUND);
#  - nginx sent every call of a session to one replica (its access log);
#  - each session exists on exactly that replica and nowhere else (each
#    replica's own `aadctl sessions`), with all its rows;
#  - the sessions spread over all three replicas;
#  - a session exported and imported under a new id through nginx lands on
#    the replica its new id routes to.
#   nginx_affinity_test.sh SOURCE_DIR AADD AADCTL
set -euo pipefail
src="${1:?usage: nginx_affinity_test.sh SOURCE_DIR AADD AADCTL}"
aadd="${2:?}"
aadctl="${3:?}"
sessions_wanted=30  # with 3 replicas, all of them get one but with p < 1e-4
replicas=3

nginx_bin="$(command -v nginx || true)"
[ -n "$nginx_bin" ] || nginx_bin=/usr/sbin/nginx
if [ ! -x "$nginx_bin" ]; then
  echo "FAIL: nginx is not installed (scripts/install-deps.sh --deploy installs nginx-light)" >&2
  exit 1
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/aadd-nginx-test.XXXXXX")"
pids=()
cleanup() {
  local rc=$? pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$rc" -ne 0 ]; then
    for f in "$tmp"/*.log; do
      [ -f "$f" ] || continue
      echo "--- $f (last lines)" >&2
      tail -n 20 "$f" >&2
    done
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Polls `$@` every 50 ms, at most $tries times; returns its last status.
poll() {
  local tries="$1"
  shift
  local i
  for ((i = 0; i < tries; i++)); do
    if "$@"; then return 0; fi
    sleep 0.05
  done
  return 1
}

# --- three replicas, each on a free port (aadd --port 0 logs the one it got),
# without HTTP (--http_port=0): three on the default 8080 would collide.
ports=()
port_of_log() { sed -n 's/.*listening on port \([0-9][0-9]*\).*/\1/p; T; q' "$1"; }
for r in $(seq 0 $((replicas - 1))); do
  "$aadd" --port 0 --http_port=0 --drain_seconds=0 --data_dir "$tmp/replica$r" \
    --training_threads 1 2>"$tmp/replica$r.log" &
  pids+=($!)
done
for r in $(seq 0 $((replicas - 1))); do
  poll 400 grep -q 'listening on port' "$tmp/replica$r.log" \
    || fail "replica $r did not start listening within 20 s"
  ports+=("$(port_of_log "$tmp/replica$r.log")")
  poll 200 "$aadctl" health --server "127.0.0.1:${ports[$r]}" >/dev/null 2>&1 \
    || fail "replica $r on port ${ports[$r]} is not healthy"
done
echo "replicas on ports ${ports[*]}"

# --- nginx: the shipped upstream and server blocks with the replicas'
# loopback addresses, inside a minimal nginx.conf that keeps every path in
# $tmp and runs in the foreground as the current user.
upstream_servers=""
for p in "${ports[@]}"; do upstream_servers+="    server 127.0.0.1:$p max_fails=0;\n"; done
mkdir -p "$tmp/nginx"
start_nginx() {
  local port="$1"
  awk -v servers="$upstream_servers" -v listen="    listen 127.0.0.1:$port http2;" '
    /^[[:space:]]*server [^{]*;/ { if (!done) { printf "%s", servers; done = 1 } next }
    /^[[:space:]]*listen / { print listen; next }
    { print }' "$src/deploy/nginx/aadd.conf" >"$tmp/nginx/aadd.conf"
  grep -q 'hash $http_x_session_id consistent' "$tmp/nginx/aadd.conf" \
    || fail "deploy/nginx/aadd.conf does not hash on \$http_x_session_id consistently"
  local user_line=""
  if [ "$(id -u)" -eq 0 ]; then user_line="user root;"; fi
  cat >"$tmp/nginx/nginx.conf" <<EOF
$user_line
daemon off;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx-error.log notice;
events { worker_connections 512; }
http {
  log_format affinity '\$http_x_session_id \$upstream_addr \$status';
  access_log $tmp/nginx-access.log affinity;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  include $tmp/nginx/aadd.conf;
}
EOF
  "$nginx_bin" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx-error.log" &
  nginx_pid=$!
}
nginx_up() {
  kill -0 "$nginx_pid" 2>/dev/null || return 2
  "$aadctl" health --server "127.0.0.1:$proxy_port" >/dev/null 2>&1
}
# nginx cannot report a port it picked, so try random ones until one binds.
proxy_port=""
for attempt in $(seq 10); do
  candidate=$((20000 + RANDOM % 40000))
  start_nginx "$candidate"
  proxy_port="$candidate"
  status=0
  for ((i = 0; i < 200; i++)); do
    status=0
    nginx_up || status=$?
    [ "$status" -eq 1 ] || break
    sleep 0.05
  done
  if [ "$status" -eq 0 ]; then pids+=("$nginx_pid"); break; fi
  kill -TERM "$nginx_pid" 2>/dev/null || true
  wait "$nginx_pid" 2>/dev/null || true
  proxy_port=""
done
[ -n "$proxy_port" ] || fail "nginx did not come up on any of 10 ports (see nginx-error.log)"
proxy="127.0.0.1:$proxy_port"
echo "nginx on $proxy"

# --- sessions through the proxy: create, ingest, status.
rows=40
awk -v rows="$rows" 'BEGIN {
  print "f0,f1,f2,label"
  for (i = 0; i < rows; i++) printf "%d.%d,%d.5,%d,%s\n", i % 7, i % 10, i % 3, (i % 13), (i % 13 == 0 ? "anomaly" : "nominal")
}' >"$tmp/rows.csv"
created=()
for i in $(seq "$sessions_wanted"); do
  id="$("$aadctl" create --server "$proxy" --pretrain_epochs 1 2>"$tmp/create.err")" \
    || fail "create #$i through nginx: $(cat "$tmp/create.err")"
  [ -n "$id" ] || fail "create #$i printed no session id"
  created+=("$id")
  "$aadctl" ingest "$tmp/rows.csv" --server "$proxy" --session "$id" --label-column label \
    >/dev/null 2>"$tmp/call.err" \
    || fail "ingest into session $id (#$i) through nginx: $(cat "$tmp/call.err")$(
      grep -q NOT_FOUND "$tmp/call.err" && echo "
  The session was created on another replica than its id hashes to: CreateSession
  must carry the new session's id in x-session-id too, so the client has to choose
  the id (e.g. CreateSessionRequest.session_id, sent as metadata as well).")"
  out="$("$aadctl" status --json --server "$proxy" --session "$id" 2>"$tmp/call.err")" \
    || fail "status of session $id (#$i) through nginx: $(cat "$tmp/call.err")"
  grep -Eq "\"rows\": *$rows([^0-9]|\$)" <<<"$out" \
    || fail "session $id (#$i) should hold $rows rows through nginx, status says: $out"
done
# Training, candidates, labels and scoring for a few sessions: the calls of
# every kind (streams too) follow the session.
for id in "${created[@]:0:3}"; do
  "$aadctl" train --server "$proxy" --session "$id" >/dev/null 2>"$tmp/call.err" \
    || fail "train session $id through nginx: $(cat "$tmp/call.err")"
  "$aadctl" candidates -k 2 --server "$proxy" --session "$id" >/dev/null 2>"$tmp/call.err" \
    || fail "candidates of session $id through nginx: $(cat "$tmp/call.err")"
  "$aadctl" label 0=anomaly 1=nominal --wait --server "$proxy" --session "$id" \
    >/dev/null 2>"$tmp/call.err" \
    || fail "label rows of session $id through nginx: $(cat "$tmp/call.err")"
  "$aadctl" score "$tmp/rows.csv" --label-column label --server "$proxy" --session "$id" \
    >/dev/null 2>"$tmp/call.err" \
    || fail "score with session $id through nginx: $(cat "$tmp/call.err")"
done
# Export and import through nginx: the export is served by the session's
# replica, the copy is created on the replica its new id hashes to, and its
# later calls find it there.
for id in "${created[@]:0:3}"; do
  "$aadctl" export "$id" "$tmp/$id.aads" --server "$proxy" >/dev/null 2>"$tmp/call.err" \
    || fail "export session $id through nginx: $(cat "$tmp/call.err")"
  "$aadctl" import "$tmp/$id.aads" --session "$id-copy" --server "$proxy" \
    >/dev/null 2>"$tmp/call.err" \
    || fail "import session $id as $id-copy through nginx: $(cat "$tmp/call.err")"
  out="$("$aadctl" status --json --server "$proxy" --session "$id-copy" 2>"$tmp/call.err")" \
    || fail "status of the imported $id-copy through nginx: $(cat "$tmp/call.err")"
  grep -q "\"rows\":$rows,\"labels\":2," <<<"$out" \
    || fail "the imported $id-copy should hold $rows rows and 2 labels, status says: $out"
  "$aadctl" score "$tmp/rows.csv" --label-column label --server "$proxy" --session "$id-copy" \
    >/dev/null 2>"$tmp/call.err" \
    || fail "score with the imported $id-copy through nginx: $(cat "$tmp/call.err")"
  created+=("$id-copy")
done

# --- where each session lives, by each replica's own listing.
declare -A home
declare -A per_replica
for r in $(seq 0 $((replicas - 1))); do
  listing="$("$aadctl" sessions --server "127.0.0.1:${ports[$r]}")" \
    || fail "listing the sessions of replica $r"
  per_replica[$r]=0
  for id in "${created[@]}"; do
    if grep -q "^$id " <<<"$listing"; then  # the whole id: "X" is not "X-copy"
      [ -z "${home[$id]:-}" ] || fail "session $id exists on replica ${home[$id]} and on replica $r"
      home[$id]=$r
      per_replica[$r]=$((per_replica[$r] + 1))
    fi
  done
done
for id in "${created[@]}"; do
  [ -n "${home[$id]:-}" ] || fail "session $id is on no replica"
done

# --- nginx's view: every call of a session went to that session's replica.
poll 100 test -s "$tmp/nginx-access.log" || fail "nginx wrote no access log"
for id in "${created[@]}"; do
  upstreams="$(awk -v id="$id" '$1 == id {print $2}' "$tmp/nginx-access.log" | sort -u)"
  [ -n "$upstreams" ] || fail "nginx logged no call carrying x-session-id $id"
  [ "$(wc -l <<<"$upstreams")" -eq 1 ] \
    || fail "the calls of session $id went to several replicas: $(echo $upstreams)"
  [ "$upstreams" = "127.0.0.1:${ports[${home[$id]}]}" ] \
    || fail "nginx sent session $id to $upstreams, but it lives on replica ${home[$id]} (port ${ports[${home[$id]}]})"
done

summary=""
for r in $(seq 0 $((replicas - 1))); do summary+=" replica$r=${per_replica[$r]}"; done
echo "sessions per replica:$summary"
for r in $(seq 0 $((replicas - 1))); do
  [ "${per_replica[$r]}" -gt 0 ] || fail "no session landed on replica $r:$summary"
done
echo "nginx_affinity_test: ${#created[@]} sessions, each on one replica, spread over all $replicas"
