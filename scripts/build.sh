#!/usr/bin/env bash
# Configures and builds one flavour of aadd with Ninja.
#   scripts/build.sh [release|asan|tsan|tsa|fuzz] [ninja targets...]
# fuzz: the libFuzzer targets of fuzz/ (clang-14; build `fuzz-all`).
# tsa: Clang (clang-14) with -Wthread-safety -Werror, checking every
# ABSL_GUARDED_BY / ABSL_EXCLUSIVE_LOCKS_REQUIRED annotation at compile time.
# Build trees live in build/<flavour>.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
flavour="${1:-release}"
shift || true
case "$flavour" in
  release) flags=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan) flags=(-DCMAKE_BUILD_TYPE=Release -DAADD_ASAN=ON) ;;
  tsan) flags=(-DCMAKE_BUILD_TYPE=Release -DAADD_TSAN=ON) ;;
  tsa) flags=(-DCMAKE_BUILD_TYPE=Release -DAADD_THREAD_SAFETY_ANALYSIS=ON
              -DCMAKE_CXX_COMPILER=clang++-14) ;;
  fuzz) flags=(-DCMAKE_BUILD_TYPE=Release -DAADD_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-14) ;;
  *) echo "build.sh: unknown flavour '$flavour' (release, asan, tsan, tsa, fuzz)" >&2; exit 2 ;;
esac
dir="$root/build/$flavour"
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S "$root" -B "$dir" -G Ninja "${flags[@]}" >/dev/null
fi
ninja -C "$dir" "$@"
