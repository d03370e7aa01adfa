"""Fixtures of the Python client's tests: a real aadd process (and the real
aadctl beside it), the yeast set from ../shared/data.

ctest (tests/python/CMakeLists.txt) passes the binaries and the package:
  AADD_BINARY=build/<flavour>/server/aadd AADCTL_BINARY=.../client/aadctl
  PYTHONPATH=build/<flavour>/python AADD_SHARED_DATA=../shared/data
By hand: the same variables, then `python3 -m pytest tests/python`.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

import aadd

ROOT = Path(__file__).resolve().parents[2]


def _binary(variable: str, default: str) -> str:
    path = os.environ.get(variable) or str(ROOT / default)
    if not os.access(path, os.X_OK):
        pytest.exit(f"{variable}: no executable at {path} (build it, or set {variable})", 2)
    return path


@pytest.fixture(scope="session")
def aadd_binary() -> str:
    return _binary("AADD_BINARY", "build/release/server/aadd")


@pytest.fixture(scope="session")
def aadctl_binary() -> str:
    return _binary("AADCTL_BINARY", "build/release/client/aadctl")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return Path(os.environ.get("AADD_SHARED_DATA") or ROOT.parent / "shared" / "data")


@pytest.fixture(scope="session")
def yeast_path(shared_data) -> Path:
    path = shared_data / "adx" / "yeast_1.csv"
    if not path.exists():
        pytest.exit(f"no {path}: the tests read the shared benchmark data", 2)
    return path


@pytest.fixture(scope="session")
def yeast(yeast_path) -> pd.DataFrame:
    # round_trip: the correctly rounded parse, as aadd's CSV reader does
    # (from_chars); pandas' default fast parser may differ in the last bit.
    return pd.read_csv(yeast_path, float_precision="round_trip")


class AaddProcess:
    """aadd on a free port, in memory; its port read from its log line
    `listening on port N` (never a sleep); the log kept for the tests."""

    LISTENING = re.compile(r"(?<!http )listening on port (\d+)")

    def __init__(self, binary: str, *flags: str):
        shown = subprocess.run([binary, "--help"], capture_output=True, text=True)
        help_text = shown.stdout + shown.stderr
        args = [binary, "--port=0", "--in_memory", *flags]
        if "--http_port" in help_text:
            args.append("--http_port=0")  # no HTTP gateway: not what these tests use
        if "--drain_seconds" in help_text:
            args.append("--drain_seconds=0")  # no load balancer to wait for at SIGTERM
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.log: list[str] = []
        self.port = self._wait_for_port(timeout=60)
        self._drain = threading.Thread(target=self._read_rest, daemon=True)
        self._drain.start()
        self.target = f"localhost:{self.port}"

    def _wait_for_port(self, timeout: float) -> int:
        end = time.monotonic() + timeout
        buffer = b""
        fd = self.proc.stderr.fileno()
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
            if not ready:
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                self.proc.wait()
                raise RuntimeError(f"aadd exited ({self.proc.returncode}) before listening:\n"
                                   + buffer.decode(errors="replace"))
            buffer += chunk
            *lines, rest = buffer.split(b"\n")
            for line in lines:
                text = line.decode(errors="replace")
                self.log.append(text)
                m = self.LISTENING.search(text)
                if m:
                    self._rest = rest
                    return int(m.group(1))
            buffer = rest
        self.proc.kill()
        raise RuntimeError("aadd did not log its port within the timeout:\n" + "\n".join(self.log))

    def _read_rest(self) -> None:
        buffer = self._rest
        for chunk in iter(lambda: os.read(self.proc.stderr.fileno(), 65536), b""):
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            self.log.extend(line.decode(errors="replace") for line in lines)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture(scope="session")
def server(aadd_binary):
    process = AaddProcess(aadd_binary)
    yield process
    assert process.stop() == 0, "aadd did not shut down cleanly:\n" + "\n".join(process.log[-20:])


@pytest.fixture
def client(server):
    with aadd.Client(server.target) as c:
        yield c


@pytest.fixture
def run_aadctl(aadctl_binary, server):
    """Runs the real aadctl against the test server; returns its stdout."""

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([aadctl_binary, f"--server={server.target}", *args],
                                capture_output=True, text=True, timeout=300)
        if check and result.returncode != 0:
            raise AssertionError(f"aadctl {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stderr}")
        return result

    return run
