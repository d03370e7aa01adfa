#!/usr/bin/env bash
# The cost of TLS on Score (issue 14, bench/README.md "TLS cost"): makes a
# throw-away CA and a server certificate for localhost with openssl, then
# runs score_bench with a plaintext and a TLS server side by side.
#   bench/score_tls_bench.sh [BUILD_DIR] [score_bench flags...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/release}"
shift || true
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1)
openssl req -x509 "${key[@]}" -subj /CN=bench-ca -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
openssl req -new "${key[@]}" -subj /CN=localhost -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
echo "subjectAltName=DNS:localhost,IP:127.0.0.1" > "$dir/server.ext"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
  -days 1 -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
"$build/bench/score_bench" --tls_cert="$dir/server.pem" --tls_key="$dir/server.key" \
  --tls_ca="$dir/ca.pem" "$@"
