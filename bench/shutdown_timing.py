#!/usr/bin/python3
"""Times aadd's exit on SIGTERM (README, "Server flags": the shutdown).

Starts aadd (in memory, free port, no HTTP), sets up one of three cases,
sends SIGTERM and prints the seconds until the process is gone:
  none    no client;
  idle    a channel that made one call (CreateSession) and stays open;
  stream  an Ingest stream that sent one batch and never half-closes
          (also prints the status the stream ended with).
Flags after the cases go to aadd, e.g. --drain_seconds=0.

  bench/shutdown_timing.py [--aadd build/release/server/aadd] [none idle stream] [-- AADD_FLAGS]

Needs Debian's python3-grpcio and the stubs the build lays out in
build/<flavour>/python (the one beside the aadd binary).
"""
import argparse
import os
import queue
import re
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start(binary, flags):
    proc = subprocess.Popen([binary, "--port=0", "--http_port=0", "--in_memory", *flags],
                            stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        m = re.search(r"(?<!http )listening on port (\d+)", line)
        if m:
            # Keep reading the log so that aadd never blocks on a full pipe.
            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
            return proc, int(m.group(1))
    sys.exit(f"aadd exited before it listened (status {proc.wait()})")


def run(case, binary, flags, aad_pb2, aad_pb2_grpc, grpc):
    proc, port = start(binary, flags)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    stub = aad_pb2_grpc.ActiveAnomalyDetectionStub(channel)
    ended = None
    if case != "none":
        sid = stub.CreateSession(aad_pb2.CreateSessionRequest()).session.session_id
    if case == "stream":
        hold = queue.Queue()
        sent = threading.Event()

        def batches():
            yield aad_pb2.IngestRequest(session_id=sid, batch_id="b0", feature_count=2,
                                        values=[1, 2])
            sent.set()
            hold.get()  # never half-closes

        future = stub.Ingest.future(batches())
        sent.wait()
        # The batch stored (GetSession sees its row): the stream is open and idle.
        while stub.GetSession(aad_pb2.GetSessionRequest(session_id=sid)).session.rows != 1:
            pass
    start_time = time.monotonic()
    proc.send_signal(15)
    proc.wait()
    seconds = time.monotonic() - start_time
    if case == "stream":
        try:
            future.result(timeout=5)
            ended = "OK"
        except grpc.RpcError as e:
            ended = f"{e.code().name}: {e.details()}"
        hold.put(None)
    channel.close()
    line = f"{case:6s} exit after {seconds:.2f} s, status {proc.returncode}"
    print(line + (f"; the stream ended {ended}" if ended else ""), flush=True)


def main():
    argv = sys.argv[1:]
    flags = []
    if "--" in argv:
        flags = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--aadd", default=os.path.join(ROOT, "build/release/server/aadd"))
    ap.add_argument("cases", nargs="*", default=["none", "idle", "stream"])
    args = ap.parse_args(argv)
    for case in args.cases:
        if case not in ("none", "idle", "stream"):
            ap.error(f"unknown case '{case}' (none, idle, stream)")
    build = os.path.dirname(os.path.dirname(os.path.abspath(args.aadd)))
    sys.path.insert(0, os.path.join(build, "python"))
    import grpc
    from aadd._proto import aad_pb2, aad_pb2_grpc
    for case in args.cases:
        run(case, args.aadd, flags, aad_pb2, aad_pb2_grpc, grpc)


if __name__ == "__main__":
    main()
