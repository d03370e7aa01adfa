#!/usr/bin/env bash
# Installs what is missing, builds aadd (Release, then AddressSanitizer and
# ThreadSanitizer builds) and runs every test with ctest; builds the Clang
# thread-safety-analysis flavour (tsa), whose check is the compilation
# itself. Exits non-zero on any failure.
#   scripts/test.sh            every flavour
#   scripts/test.sh release    one flavour only (for quick iterations)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh" --deploy --tsa --fuzz --browser --python
flavours=("$@")
[ ${#flavours[@]} -gt 0 ] || flavours=(release tsa asan tsan fuzz)
jobs="$(nproc)"
for flavour in "${flavours[@]}"; do
  echo "=== $flavour: build" >&2
  if [ "$flavour" = fuzz ]; then
    # Each libFuzzer target for a short, fixed time (fuzz/); a crash fails.
    "$root/scripts/build.sh" fuzz fuzz-all
    for target in csv_reader session_archive options_codec model request; do
      echo "=== fuzz: $target for ${AADD_FUZZ_SECONDS:-10} s" >&2
      "$root/scripts/fuzz.sh" "$target" "${AADD_FUZZ_SECONDS:-10}" 2>&1 | tail -n 12
    done
    continue
  fi
  "$root/scripts/build.sh" "$flavour"
  # The annotations are checked by compiling; the tests run in the others.
  [ "$flavour" != tsa ] || continue
  echo "=== $flavour: test" >&2
  # Sanitizer flavours skip the tests labelled 'slow' (full benchmark-data
  # evaluations): the Release run covers them, and they test numbers, not memory.
  extra=()
  if [ "$flavour" != release ]; then extra=(-LE slow); fi
  # The browser test (Release only) fails rather than skips when chromium or
  # playwright-core is missing: install-deps.sh --browser put them there.
  AADD_REQUIRE_BROWSER=1 ASAN_OPTIONS=detect_leaks=1 TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
    ctest --test-dir "$root/build/$flavour" --output-on-failure -j "$jobs" "${extra[@]}"
done
echo "=== all tests passed (${flavours[*]})" >&2
