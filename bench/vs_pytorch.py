#!/usr/bin/env python3
"""The core against PyTorch on the same autoencoders (bench/README.md, "Performance").

Both sides train the same network on the same rows: the same layer sizes,
ReLU, mean squared error, Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8, no weight
decay), batch size, float32 and thread count, over contiguous minibatches in
file order (the last partial batch dropped), after the same number of untimed
warm-up steps. The core side is bench/train-bench (a subprocess); the PyTorch
side runs in this process. Runs alternate core/PyTorch (and which goes first)
so that drifting machine load hits both; each figure is the median over the
repetitions. The last line printed is one JSON object.

Two threads: PyTorch splits each operator over its intra-op (OpenMP) threads;
the core splits each minibatch into halves, one per thread, and adds the
halves' gradients before the one Adam step (see bench/train_bench.cc).
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
import torch
import torch.nn.functional as F

SHAPES = {
    # name: (dims, hidden, latent, train batch)
    "large": (64, 128, 32, 256),
    "small": (9, 32, 8, 128),
}
INFER_BATCH = 4096


def gemm_flops_per_sample(dims, hidden, latent, mode):
    """Multiply-adds x 2 of the dense layers; the input layer needs no dx."""
    layers = [(dims, hidden), (hidden, latent), (latent, hidden), (hidden, dims)]
    fwd = sum(2 * i * o for i, o in layers)
    if mode == "infer":
        return fwd
    dw = fwd
    dx = fwd - 2 * dims * hidden
    return fwd + dw + dx


def load():
    try:
        return open("/proc/loadavg").read().split()[0]
    except OSError:
        return "?"


def blas_libraries():
    """The BLAS/LAPACK shared objects mapped into this process."""
    libs = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            base = os.path.basename(path)
            if any(k in base for k in ("blas", "lapack", "mkl", "dnnl", "gomp", "omp")):
                libs.add(os.path.realpath(path))
    return sorted(libs)


class TorchAutoencoder(torch.nn.Module):
    def __init__(self, dims, hidden, latent):
        super().__init__()
        self.encoder = torch.nn.Sequential(
            torch.nn.Linear(dims, hidden), torch.nn.ReLU(),
            torch.nn.Linear(hidden, latent), torch.nn.ReLU())
        self.decoder = torch.nn.Sequential(
            torch.nn.Linear(latent, hidden), torch.nn.ReLU(),
            torch.nn.Linear(hidden, dims))

    def forward(self, x):
        return self.decoder(self.encoder(x))


def torch_run(x, shape, mode, threads, warmup, foreach):
    dims, hidden, latent, train_batch = SHAPES[shape]
    batch = train_batch if mode == "train" else INFER_BATCH
    torch.set_num_threads(threads)
    torch.manual_seed(42)
    model = TorchAutoencoder(dims, hidden, latent)
    steps = x.shape[0] // batch
    if mode == "train":
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                               weight_decay=0.0, foreach=foreach)

        def step(s):
            xb = x[(s % steps) * batch:(s % steps + 1) * batch]
            opt.zero_grad(set_to_none=True)
            loss = F.mse_loss(model(xb), xb)
            loss.backward()
            opt.step()
            return loss
    else:
        model.eval()

        def step(s):
            xb = x[(s % steps) * batch:(s % steps + 1) * batch]
            with torch.inference_mode():
                z = model.encoder(xb)
                e = (model.decoder(z) - xb).square()
                return e.mean(1).mean()
    for s in range(warmup):
        step(s)
    t0, c0 = time.perf_counter(), time.process_time()
    for s in range(steps):
        last = step(s)
    seconds = time.perf_counter() - t0
    cpu_seconds = time.process_time() - c0
    samples = steps * batch
    return {"impl": "torch", "mode": mode, "shape": shape, "threads": threads,
            "samples": samples, "seconds": seconds, "cpu_seconds": cpu_seconds,
            "samples_per_s": samples / seconds,
            "last_loss": float(last)}


def core_run(binary, path, rows, shape, mode, threads, warmup):
    dims, hidden, latent, train_batch = SHAPES[shape]
    batch = train_batch if mode == "train" else INFER_BATCH
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run(
        [binary, "--data", path, "--rows", str(rows), "--dims", str(dims), "--hidden",
         str(hidden), "--latent", str(latent), "--batch", str(batch), "--mode", mode,
         "--threads", str(threads), "--warmup", str(warmup)],
        check=True, capture_output=True, text=True, env=env)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["shape"] = shape
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--core", required=True, help="path of the train-bench binary")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    thread_counts = [int(t) for t in args.threads.split(",")]

    print(f"torch {torch.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}")
    print(torch.__config__.show().strip())
    torch.ones(64, 64) @ torch.ones(64, 64)  # make sure the BLAS is loaded
    blas = blas_libraries()
    print("libraries mapped into the PyTorch process:", ", ".join(blas) or "none")
    openblas = any("openblas" in b for b in blas)
    print("PyTorch BLAS:", "OpenBLAS" if openblas else "NOT OpenBLAS (reference BLAS?)")

    # The same random rows for both sides: standard normal float32, one file per shape.
    rng = np.random.default_rng(args.seed)
    tmp = tempfile.mkdtemp(prefix="vs_pytorch_")
    data, paths = {}, {}
    for shape, (dims, _, _, _) in SHAPES.items():
        data[shape] = rng.standard_normal((args.rows, dims), dtype=np.float32)
        paths[shape] = os.path.join(tmp, f"{shape}.f32")
        data[shape].tofile(paths[shape])
    tensors = {s: torch.from_numpy(a) for s, a in data.items()}

    # PyTorch at its best: pick the faster Adam implementation per shape.
    foreach = {}
    for shape in SHAPES:
        times = {}
        for fe in (False, True):
            times[fe] = torch_run(tensors[shape][:20 * SHAPES[shape][3]], shape, "train", 1,
                                  args.warmup, fe)["seconds"]
        foreach[shape] = min(times, key=times.get)
        print(f"torch Adam foreach={foreach[shape]} on {shape} "
              f"(single-tensor {times[False]:.4f}s, foreach {times[True]:.4f}s for 20 steps)")

    cases = []
    for t in thread_counts:
        for shape in SHAPES:
            cases.append(("train", shape, t))
    for t in thread_counts:
        for shape in SHAPES:
            cases.append(("infer", shape, t))

    results = {c: {"core": [], "torch": []} for c in cases}
    per_cpu = {c: {"core": [], "torch": []} for c in cases}  # samples per CPU-second
    loads = []
    for rep in range(args.reps):
        loads.append(load())
        for case in cases:
            mode, shape, t = case
            order = ("core", "torch") if (rep + cases.index(case)) % 2 == 0 else ("torch", "core")
            for impl in order:
                if impl == "core":
                    r = core_run(args.core, paths[shape], args.rows, shape, mode, t, args.warmup)
                else:
                    r = torch_run(tensors[shape], shape, mode, t, args.warmup, foreach[shape])
                results[case][impl].append(r["samples_per_s"])
                per_cpu[case][impl].append(r["samples"] / max(r["cpu_seconds"], 1e-9))
        print(f"rep {rep + 1}/{args.reps} done, load {loads[-1]}", flush=True)
    loads.append(load())

    mhz = cpu_mhz()
    print(f"\n{'mode':6} {'shape':6} {'thr':>3} {'core samples/s':>15} {'torch samples/s':>16}"
          f" {'ratio':>6} {'core GFLOP/s':>12} {'torch GFLOP/s':>13}")
    summary = {}
    for case in cases:
        mode, shape, t = case
        c = statistics.median(results[case]["core"])
        p = statistics.median(results[case]["torch"])
        flops = gemm_flops_per_sample(*SHAPES[shape][:3], mode)
        print(f"{mode:6} {shape:6} {t:>3} {c:>15,.0f} {p:>16,.0f} {c / p:>6.2f}"
              f" {c * flops / 1e9:>12.1f} {p * flops / 1e9:>13.1f}")
        summary[f"{mode}_core_{shape}_{t}t"] = round(c)
        summary[f"{mode}_torch_{shape}_{t}t"] = round(p)
        summary[f"{mode}_speedup_{shape}_{t}t"] = round(c / p, 3)
        summary[f"{mode}_core_gflops_{shape}_{t}t"] = round(c * flops / 1e9, 2)
    # Issue 16 asks for the ratio in every repetition, not only the median
    # (the core and PyTorch runs of a repetition are adjacent).
    print("\nratio core / PyTorch in each repetition:")
    for case in cases:
        mode, shape, t = case
        reps = [c / p for c, p in zip(results[case]["core"], results[case]["torch"])]
        print(f"{mode:6} {shape:6} {t:>3} " + " ".join(f"{r:.2f}" for r in reps))
        summary[f"{mode}_speedup_per_rep_{shape}_{t}t"] = [round(r, 3) for r in reps]
    # Wall-clock figures suffer from other work on a shared machine; samples
    # per CPU-second of the process do much less (1 thread: its own core time).
    print(f"\nper CPU-second of the process (load-robust; 1 thread):")
    print(f"{'mode':6} {'shape':6} {'core samples/cpu-s':>19} {'torch samples/cpu-s':>20} {'ratio':>6}"
          f" {'core GFLOP/cpu-s':>16}")
    for case in cases:
        mode, shape, t = case
        if t != 1:
            continue
        c = statistics.median(per_cpu[case]["core"])
        p = statistics.median(per_cpu[case]["torch"])
        flops = gemm_flops_per_sample(*SHAPES[shape][:3], mode)
        print(f"{mode:6} {shape:6} {c:>19,.0f} {p:>20,.0f} {c / p:>6.2f} {c * flops / 1e9:>16.1f}")
        summary[f"{mode}_cpu_speedup_{shape}_1t"] = round(c / p, 3)
        summary[f"{mode}_core_gflops_per_cpu_s_{shape}_1t"] = round(c * flops / 1e9, 2)
    lanes, isa = (16, "AVX-512") if has_avx512() else (8, "AVX2")
    peak = 4 * lanes * mhz / 1000.0
    print(f"\npeak fp32 of one core: {4 * lanes} FLOP/cycle ({isa}, 2 FMA pipes x {lanes} lanes x 2)"
          f" x {mhz:.0f} MHz = {peak:.1f} GFLOP/s")
    for key in ("train_core_gflops_large_1t", "infer_core_gflops_large_1t",
                "train_core_gflops_per_cpu_s_large_1t", "infer_core_gflops_per_cpu_s_large_1t"):
        if key in summary:
            print(f"{key}: {summary[key]} GFLOP/s = {100 * summary[key] / peak:.0f}% of peak")
    # The headline keys of issue 6 (inference: 1 thread).
    for k_new, k_old in (("train_speedup_large_1t", "train_speedup_large_1t"),
                         ("train_speedup_small_1t", "train_speedup_small_1t"),
                         ("train_speedup_large_2t", "train_speedup_large_2t"),
                         ("train_speedup_small_2t", "train_speedup_small_2t"),
                         ("infer_speedup_large", "infer_speedup_large_1t"),
                         ("infer_speedup_small", "infer_speedup_small_1t")):
        if k_old in summary:
            summary[k_new] = summary[k_old]
    summary.update({"torch_version": torch.__version__, "torch_blas_openblas": openblas,
                    "torch_adam_foreach": {s: f for s, f in foreach.items()},
                    "rows": args.rows, "reps": args.reps, "cpu_mhz": round(mhz),
                    "peak_gflops_per_core": round(peak, 1), "load_per_rep": loads})
    print(json.dumps(summary, sort_keys=True))


def has_avx512():
    """Whether the CPU has AVX-512F (then the core's kernels use 16 lanes)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return "avx512f" in line.split()
    except OSError:
        pass
    return False


def cpu_mhz():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("cpu MHz"):
                    return float(line.split(":")[1])
    except OSError:
        pass
    return 0.0


if __name__ == "__main__":
    main()
