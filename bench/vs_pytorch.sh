#!/usr/bin/env bash
# The core against PyTorch on the same autoencoders, in one command:
#   bench/vs_pytorch.sh [--reps N] [--rows N] [--threads 1,2]
#   AADD_TRAIN_BENCH=build/perf/bench/train-bench bench/vs_pytorch.sh   # prebuilt binary
# Installs PyTorch and OpenBLAS (scripts/install-deps.sh --bench), builds
# train-bench in build/release, then runs bench/vs_pytorch.py. The last line
# printed is one JSON object (see bench/README.md, "Performance").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh" --bench
# AADD_TRAIN_BENCH=path skips the build and uses that binary instead.
core="${AADD_TRAIN_BENCH:-}"
if [ -z "$core" ]; then
  # -j2: the build machines are small and shared.
  "$root/scripts/build.sh" release -j2 train-bench >&2
  core="$root/build/release/bench/train-bench"
fi
# PyTorch's OpenMP threads sleep when idle instead of spinning: on a shared,
# busy machine spinning makes its 2-thread runs many times slower (measured).
# Set OMP_WAIT_POLICY=active to compare on an idle machine.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
echo "OMP_WAIT_POLICY=$OMP_WAIT_POLICY"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
# Debian's python3-torch lives in the system interpreter, whatever python3 is first on PATH.
python=/usr/bin/python3
[ -x "$python" ] || python=python3
exec "$python" "$root/bench/vs_pytorch.py" --core "$core" "$@"
