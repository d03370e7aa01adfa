#!/usr/bin/env bash
# The core's Isolation Forest against scikit-learn's on the same rows, in one command:
#   bench/vs_sklearn_forest.sh [--reps N] [--rows N] [--dims D] [--min-time S]
#   AADD_CORE_BENCH=build/perf/bench/core-bench bench/vs_sklearn_forest.sh   # prebuilt binary
# Installs scikit-learn when it is missing (scripts/install-deps.sh --bench),
# builds core-bench in build/release, then runs bench/vs_sklearn_forest.py.
# The last line printed is one JSON object (see bench/README.md, "Scoring path").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Debian's python3-sklearn lives in the system interpreter, whatever python3 is first on PATH.
python=/usr/bin/python3
[ -x "$python" ] || python=python3
if ! "$python" -c 'import sklearn, numpy' 2>/dev/null; then
  "$root/scripts/install-deps.sh" --bench
fi
# AADD_CORE_BENCH=path skips the build and uses that binary instead.
core="${AADD_CORE_BENCH:-}"
if [ -z "$core" ]; then
  # -j2: the build machines are small and shared.
  "$root/scripts/build.sh" release -j2 core-bench >&2
  core="$root/build/release/bench/core-bench"
fi
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
exec "$python" "$root/bench/vs_sklearn_forest.py" --core "$core" "$@"
