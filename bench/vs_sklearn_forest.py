#!/usr/bin/env python3
"""The core's Isolation Forest against scikit-learn's on the same rows (bench/README.md,
"Scoring path (issue 16)").

Both sides fit 100 trees of 256 samples on the same standard-normal fit rows
(numpy, seed 1, written to a raw float32 file both read) and score the same
block of rows: scikit-learn's IsolationForest(n_estimators=100,
max_samples=256).score_samples in this process (single-threaded: scoring has
no n_jobs), the core's IsolationForest::Score and ScoreAndLeaves through
core-bench (BM_ForestFile, a subprocess; Google Benchmark's CPU time). Each
side is timed per CPU-second of its own process; runs alternate (and which
goes first) so that drifting machine load hits both. The figures are medians
over the repetitions. The last line printed is one JSON object.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest


def load():
    try:
        return open("/proc/loadavg").read().split()[0]
    except OSError:
        return "?"


def core_run(core, data, fit_rows, rows, dims, min_time):
    env = dict(os.environ, AADD_FOREST_DATA=f"{data}:{fit_rows}:{rows}:{dims}")
    out = subprocess.run(
        [core, "--benchmark_filter=BM_ForestFile/", f"--benchmark_min_time={min_time}",
         "--benchmark_format=json"],
        env=env, check=True, capture_output=True, text=True).stdout
    result = {}
    for b in json.loads(out)["benchmarks"]:
        # cpu_time is per iteration (one call on all rows), in microseconds.
        result[b["name"].split("/")[-1]] = rows / (b["cpu_time"] * 1e-6)
    return result


def sklearn_run(forest, x, min_time):
    forest.score_samples(x)  # warm-up
    calls, start = 0, time.process_time()
    while True:
        forest.score_samples(x)
        calls += 1
        spent = time.process_time() - start
        if spent >= min_time:
            return calls * x.shape[0] / spent


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--core", required=True, help="core-bench binary")
    p.add_argument("--rows", type=int, default=4096, help="rows scored per call")
    p.add_argument("--dims", type=int, default=32)
    p.add_argument("--fit-rows", type=int, default=10000)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--min-time", type=float, default=1.0, help="seconds of CPU per measurement")
    a = p.parse_args()

    rng = np.random.default_rng(1)
    fit = rng.standard_normal((a.fit_rows, a.dims), dtype=np.float32)
    x = rng.standard_normal((a.rows, a.dims), dtype=np.float32)
    forest = IsolationForest(n_estimators=100, max_samples=256, random_state=1).fit(fit)
    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}; "
          f"{a.rows} x {a.dims} rows scored, fit on {a.fit_rows}", flush=True)

    samples = {"core_score": [], "core_score_and_leaves": [], "sklearn": []}
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "rows.f32")
        np.concatenate([fit, x]).astype("<f4").tofile(data)
        for rep in range(a.reps):
            order = ["core", "sklearn"] if rep % 2 == 0 else ["sklearn", "core"]
            for side in order:
                before = load()
                if side == "core":
                    r = core_run(a.core, data, a.fit_rows, a.rows, a.dims, a.min_time)
                    samples["core_score"].append(r["Score"])
                    samples["core_score_and_leaves"].append(r["ScoreAndLeaves"])
                    print(f"rep {rep + 1} core: Score {r['Score']:,.0f} rows/s, ScoreAndLeaves "
                          f"{r['ScoreAndLeaves']:,.0f} rows/s (load {before})", flush=True)
                else:
                    s = sklearn_run(forest, x, a.min_time)
                    samples["sklearn"].append(s)
                    print(f"rep {rep + 1} scikit-learn score_samples: {s:,.0f} rows/s "
                          f"(load {before})", flush=True)

    med = {k: statistics.median(v) for k, v in samples.items()}
    ratios = [c / s for c, s in zip(samples["core_score"], samples["sklearn"])]
    print(f"median rows per CPU-second: core Score {med['core_score']:,.0f}, core ScoreAndLeaves "
          f"{med['core_score_and_leaves']:,.0f}, scikit-learn {med['sklearn']:,.0f}; "
          f"core / scikit-learn {med['core_score'] / med['sklearn']:.1f} "
          f"(per repetition {', '.join(f'{r:.1f}' for r in ratios)})")
    print(json.dumps({
        "rows": a.rows, "dims": a.dims, "sklearn_version": sklearn.__version__,
        "core_score_rows_per_s": round(med["core_score"]),
        "core_score_and_leaves_rows_per_s": round(med["core_score_and_leaves"]),
        "sklearn_rows_per_s": round(med["sklearn"]),
        "speedup_vs_sklearn": round(med["core_score"] / med["sklearn"], 2),
        "speedups_per_rep": [round(r, 2) for r in ratios],
    }))


if __name__ == "__main__":
    sys.exit(main())
