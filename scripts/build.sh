#!/usr/bin/env bash
# Configures and builds one flavour of aadd with Ninja.
#   scripts/build.sh [release|asan|tsan] [ninja targets...]
# Build trees live in build/<flavour>.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
flavour="${1:-release}"
shift || true
case "$flavour" in
  release) flags=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan) flags=(-DCMAKE_BUILD_TYPE=Release -DAADD_ASAN=ON) ;;
  tsan) flags=(-DCMAKE_BUILD_TYPE=Release -DAADD_TSAN=ON) ;;
  *) echo "build.sh: unknown flavour '$flavour' (release, asan, tsan)" >&2; exit 2 ;;
esac
dir="$root/build/$flavour"
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S "$root" -B "$dir" -G Ninja "${flags[@]}" >/dev/null
fi
ninja -C "$dir" "$@"
