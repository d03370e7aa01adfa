#!/usr/bin/env bash
# Installs every Debian 12 package that aadd's build, tests and demo need.
# Idempotent and quick when everything is present: it asks dpkg first and
# calls apt-get only for what is missing. Run as root (or with sudo on PATH).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libeigen3-dev libabsl-dev libsqlite3-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
# Extra packages for optional parts, selected by flags:
#   --bench   PyTorch and OpenBLAS for bench/vs_pytorch.sh
#   --deploy  nginx and python3-yaml for the deployment tests (tests/deploy)
#   --tsa     clang-14 for the thread-safety-analysis build (scripts/build.sh tsa)
#   --fuzz    clang-14 and its libFuzzer runtime (scripts/fuzz.sh)
for arg in "$@"; do
  case "$arg" in
    --bench) packages+=(python3 python3-torch python3-numpy libopenblas0-openmp) ;;
    --deploy) packages+=(nginx-light python3-yaml) ;;
    --tsa) packages+=(clang-14) ;;
    --fuzz) packages+=(clang-14 libclang-rt-14-dev) ;;
    *) echo "install-deps.sh: unknown option '$arg' (known: --bench, --deploy, --tsa, --fuzz)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps.sh: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
