# Sourced by the benchmark scripts that need a PostgreSQL 15 server: a
# throwaway cluster (initdb) in a directory of the caller's, started with
# pg_ctl on a random free loopback port, its socket inside the directory;
# as the user nobody when run as root, since PostgreSQL refuses root.
#   source bench/pg_cluster.sh
#   pg_cluster_start DIR DATABASE   # sets pg_port; DATABASE created empty
#   pg_cluster_stop DIR             # safe to call when it never started
pg_bin=/usr/lib/postgresql/15/bin
pg_as=()

pg_cluster_start() {
  local dir="$1" db="$2" candidate attempt
  [ -x "$pg_bin/initdb" ] || {
    echo "PostgreSQL 15 is not installed: scripts/install-deps.sh" >&2
    return 1
  }
  mkdir -p "$dir/socket"
  if [ "$(id -u)" -eq 0 ]; then
    chown nobody "$dir" "$dir/socket"
    pg_as=(runuser -u nobody --)
  fi
  "${pg_as[@]}" "$pg_bin/initdb" -D "$dir/data" -U aadd --auth=trust -E UTF8 --no-locale \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  # A random loopback port; another one when it is taken.
  pg_port=""
  for attempt in $(seq 10); do
    candidate=$((20000 + RANDOM % 40000))
    if "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-p $candidate -k $dir/socket -c listen_addresses=127.0.0.1" start >/dev/null; then
      pg_port="$candidate"
      break
    fi
  done
  [ -n "$pg_port" ] || { cat "$dir/server.log" >&2; return 1; }
  "${pg_as[@]}" "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U aadd -d postgres -q \
    -c "CREATE DATABASE $db" >/dev/null
  echo "PostgreSQL 15 on 127.0.0.1:$pg_port (fsync on, as shipped)" >&2
}

pg_cluster_stop() {
  [ -d "$1/data" ] || return 0
  "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$1/data" stop -m fast -w >/dev/null 2>&1 || true
}
