#!/usr/bin/env bash
# Builds one libFuzzer target (fuzz/TARGET_fuzz.cc) with its seed corpus and
# runs it for SECONDS. Inputs that crash it are written to build/fuzz/fuzz/
# as crash-*; the corpus grows in build/fuzz/fuzz/corpus/TARGET.
#   scripts/fuzz.sh TARGET SECONDS [libFuzzer flags...]
#   targets: csv_reader session_archive options_codec model request
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${1:?usage: scripts/fuzz.sh TARGET SECONDS [libFuzzer flags...]}"
seconds="${2:?usage: scripts/fuzz.sh TARGET SECONDS [libFuzzer flags...]}"
shift 2
case "$target" in
  csv_reader|session_archive|options_codec|model|request) ;;
  *) echo "fuzz.sh: unknown target '$target' (csv_reader, session_archive, options_codec, model, request)" >&2
     exit 2 ;;
esac
"$root/scripts/build.sh" fuzz "${target}_fuzz" fuzz-corpus >&2
dir="$root/build/fuzz/fuzz"
mkdir -p "$dir/corpus/$target"
cd "$dir"
# Leak checks off for the request target: gRPC's and protobuf's static state
# lives for the process.
leaks=1
[ "$target" != request ] || leaks=0
exec "./${target}_fuzz" -max_total_time="$seconds" -print_final_stats=1 -detect_leaks="$leaks" \
  -rss_limit_mb=4096 "$@" "corpus/$target"
