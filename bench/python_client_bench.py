#!/usr/bin/env python3
"""The Python client against the C++ client on the same aadd, in one run:
Ingest throughput (rows/s) and single-row Score latency (p50, p99).

Starts aadd (in memory, a free port) unless --server is given, runs the C++
side with bench/client_bench.cc (client-bench: AadClient, the library aadctl
uses) and then the Python side with the same shapes and call counts, and
prints a Markdown table (bench/README.md, "Python client").

  scripts/build.sh release aadd client-bench aadd_python
  PYTHONPATH=build/release/python /usr/bin/python3 bench/python_client_bench.py
"""

from __future__ import annotations

import argparse
import json
import os
import re
import select
import signal
import statistics
import subprocess
import sys
import time

import numpy as np
import pandas as pd

import aadd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_aadd(binary: str) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([binary, "--port=0", "--http_port=0", "--in_memory", "--drain_seconds=0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    pattern = re.compile(rb"(?<!http )listening on port (\d+)")
    buffer = b""
    end = time.monotonic() + 60
    while time.monotonic() < end:
        ready, _, _ = select.select([proc.stderr], [], [], end - time.monotonic())
        if not ready:
            break
        chunk = os.read(proc.stderr.fileno(), 65536)
        if not chunk:
            break
        buffer += chunk
        m = pattern.search(buffer)
        if m:
            # Keep draining the log so that aadd never blocks on a full pipe.
            subprocess.Popen(["cat"], stdin=proc.stderr, stdout=subprocess.DEVNULL)
            return proc, int(m.group(1))
    proc.kill()
    sys.exit("aadd did not log its port:\n" + buffer.decode(errors="replace"))


def quantile(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * (len(v) - 1) + 0.5))]


def python_side(target: str, rows: int, dims: int, reps: int, calls: int) -> dict:
    client = aadd.Client(target)
    values = np.random.default_rng(1).normal(size=(rows, dims)).astype(np.float32)
    frame = pd.DataFrame(values.astype(np.float64), columns=[f"x{j}" for j in range(dims)])
    out = {"ingest_array": [], "ingest_frame": []}
    for kind, data in (("ingest_array", values), ("ingest_frame", frame)):
        for _ in range(reps):
            s = client.create_session(seed=1, pretrain_epochs=1)
            t0 = time.perf_counter()
            s.ingest(data)
            out[kind].append(rows / (time.perf_counter() - t0))
            s.delete()
    # Scoring: a session of unnamed columns (arrays and an unnamed frame).
    s = client.create_session(seed=1, pretrain_epochs=1)
    s.ingest(values)
    s.train(progress=False)
    for kind, row_of in (("score_array", lambda i: values[i:i + 1]),
                         ("score_frame", lambda i: frame.iloc[i:i + 1].set_axis(
                             range(dims), axis=1))):
        ms = []
        for c in range(-200, calls):
            row = row_of((c + 200) % rows)
            t0 = time.perf_counter()
            s.score(row)
            if c >= 0:
                ms.append((time.perf_counter() - t0) * 1000)
        out[kind] = (quantile(ms, 0.5), quantile(ms, 0.99))
    s.delete()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--aadd", default=os.path.join(ROOT, "build/release/server/aadd"))
    ap.add_argument("--client_bench", default=os.path.join(ROOT, "build/release/bench/client-bench"))
    ap.add_argument("--server", help="host:port of a running aadd (default: start one)")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--dims", type=int, default=16)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--score_calls", type=int, default=5000)
    args = ap.parse_args()

    proc = None
    target = args.server
    if target is None:
        proc, port = start_aadd(args.aadd)
        target = f"localhost:{port}"
    try:
        cpp = json.loads(subprocess.run(
            [args.client_bench, f"--server={target}", f"--rows={args.rows}", f"--dims={args.dims}",
             f"--reps={args.reps}", f"--score_calls={args.score_calls}"],
            check=True, capture_output=True, text=True).stdout)
        py = python_side(target, args.rows, args.dims, args.reps, args.score_calls)
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)

    med = statistics.median
    print(f"{args.rows} rows x {args.dims} features, batches of 4096 rows, median of {args.reps} "
          f"ingests; {args.score_calls} single-row Score calls; aadd at {target}")
    print("| client | ingest rows/s | score p50 ms | score p99 ms |")
    print("|---|---:|---:|---:|")
    print(f"| C++ (AadClient) | {med(cpp['ingest_rows_per_s']):,.0f} | "
          f"{cpp['score_p50_ms']:.3f} | {cpp['score_p99_ms']:.3f} |")
    print(f"| Python, ndarray float32 | {med(py['ingest_array']):,.0f} | "
          f"{py['score_array'][0]:.3f} | {py['score_array'][1]:.3f} |")
    print(f"| Python, DataFrame float64 | {med(py['ingest_frame']):,.0f} | "
          f"{py['score_frame'][0]:.3f} | {py['score_frame'][1]:.3f} |")


if __name__ == "__main__":
    main()
