#!/usr/bin/env bash
# Installs every Debian 12 package that aadd's build, tests and demo need.
# Idempotent and quick when everything is present: it asks dpkg first and
# calls apt-get only for what is missing. Run as root (or with sudo on PATH).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

packages=(
  build-essential cmake ninja-build pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libeigen3-dev libabsl-dev libsqlite3-dev zlib1g-dev libcpp-httplib-dev
  prometheus-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # TLS (issue 14): OpenSSL checks the certificate files at start; the tests
  # and the bench make their certificates with the openssl command.
  libssl-dev openssl
)
# libcrypto (SHA-256, constant-time compare) for the bearer tokens of
# --auth_tokens (server/auth); gRPC's headers pull it in, but aadd links it
# itself.
packages+=(libssl-dev)
# The PostgreSQL store (issue 15): libpq-dev builds aadd --store
# postgresql://...; postgresql-15 is the server that its tests start in a
# temporary directory (tests/testing/postgres_server.h).
packages+=(libpq-dev postgresql-15)
# Extra packages for optional parts, selected by flags:
#   --bench   PyTorch and OpenBLAS for bench/vs_pytorch.sh, scikit-learn for
#             bench/vs_sklearn_forest.sh
#   --deploy  nginx and python3-yaml for the deployment tests (tests/deploy)
#   --tsa     clang-14 for the thread-safety-analysis build (scripts/build.sh tsa)
#   --fuzz    clang-14 and its libFuzzer runtime (scripts/fuzz.sh)
#   --browser chromium, node and npm, then playwright-core for the browser
#             tests (tests/browser, pinned by its package-lock.json)
#   --python  the Python client's runtime (grpcio, protobuf, numpy, pandas)
#             and pytest for its tests (tests/python); the build generates its
#             stubs with protobuf-compiler-grpc's grpc_python_plugin
browser=0
for arg in "$@"; do
  case "$arg" in
    --bench) packages+=(python3 python3-torch python3-numpy libopenblas0-openmp python3-sklearn) ;;
    --deploy) packages+=(nginx-light python3-yaml) ;;
    --tsa) packages+=(clang-14) ;;
    --fuzz) packages+=(clang-14 libclang-rt-14-dev) ;;
    --python) packages+=(python3 python3-grpcio python3-protobuf python3-numpy python3-pandas
                         python3-pytest) ;;
    --browser)
      browser=1
      packages+=(chromium fonts-dejavu-core)
      # Debian's nodejs and npm, unless a node with npm is there already (a
      # NodeSource nodejs bundles npm and conflicts with Debian's npm package).
      if ! command -v npm >/dev/null 2>&1; then packages+=(nodejs npm); fi ;;
    *) echo "install-deps.sh: unknown option '$arg' (known: --bench, --deploy, --tsa, --fuzz, --browser, --python)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps.sh: installing ${missing[*]}" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# playwright-core from npm, exactly as tests/browser/package-lock.json pins it;
# npm ci only when node_modules is missing or was installed from another lock
# file (a stamp of the lock file's hash).
if [ "$browser" = 1 ]; then
  dir="$root/tests/browser"
  stamp="$dir/node_modules/.aadd-package-lock.sha256"
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "install-deps.sh: npm ci in tests/browser" >&2
    (cd "$dir" && npm ci --no-audit --no-fund)
    echo "$want" >"$stamp"
  fi
fi
