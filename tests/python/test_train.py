"""train(): progress where someone watches (tqdm when installed, a line on a
terminal, nothing otherwise) and Ctrl-C, which cancels the run on the
server before KeyboardInterrupt reaches the caller."""

import io
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from aadd import _progress


@pytest.fixture
def session(client, yeast):
    s = client.create_session(seed=1)
    s.ingest(yeast.drop(columns=["label"]))
    yield s
    s.delete()


def test_callback_sees_progress_and_the_version(session):
    seen = []
    assert session.train(pretrain_epochs=3, progress=seen.append) == 1
    # The server coalesces progress while a write is in flight: epochs may
    # be skipped, never repeated or reordered.
    epochs = [m.epoch for m in seen if not m.done]
    assert epochs == sorted(set(epochs)) and set(epochs) <= {1, 2, 3}
    assert all(m.epochs == 3 for m in seen if not m.done)
    assert seen[-1].done and seen[-1].model_version == 1
    assert all(m.loss > 0 and m.rows_per_second > 0 for m in seen if not m.done)


def test_nothing_is_drawn_when_no_terminal_watches(session, capsys):
    session.train(pretrain_epochs=2)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_a_line_on_a_terminal_without_tqdm(session, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm fails
    session.train(pretrain_epochs=4, progress=True)
    err = capsys.readouterr().err
    assert err.startswith("\r[") and "/4 loss " in err and err.endswith(" rows/s\n")


def test_tqdm_when_installed(session, capsys):
    pytest.importorskip("tqdm")
    session.train(pretrain_epochs=4, progress=True)
    err = capsys.readouterr().err
    assert "train" in err and "/4 [" in err


def test_a_terminal_gets_a_bar_by_default():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert not isinstance(_progress.make_progress(None, stream=Tty()), _progress._Nothing)
    assert isinstance(_progress.make_progress(None, stream=io.StringIO()), _progress._Nothing)
    assert isinstance(_progress.make_progress(False, stream=Tty()), _progress._Nothing)


INTERRUPTED = textwrap.dedent("""
    import sys
    import aadd
    client = aadd.Client(sys.argv[1])
    s = client.session(sys.argv[2])
    told = False
    def progress(m):
        global told
        if m.epoch >= 2 and not told:
            told = True
            print("training", flush=True)  # the test sends SIGINT now
    try:
        s.train(progress=progress)
    except KeyboardInterrupt:
        st = s.status()  # right after the interrupt: the run is over
        print("interrupted", st.training_state, st.model_version, flush=True)
        sys.exit(3)
    print("not interrupted", flush=True)
""")


def test_ctrl_c_cancels_the_run_on_the_server(client, server):
    # 10000 epochs of 20000 rows: minutes, unless cancelled.
    s = client.create_session(seed=1, pretrain_epochs=10000, max_pretrain_rows=10**12)
    s.ingest(np.random.default_rng(1).normal(size=(20000, 8)))
    child = subprocess.Popen([sys.executable, "-c", INTERRUPTED, server.target, s.id],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ))
    try:
        assert child.stdout.readline().strip() == "training"
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 3, err
    state, version = out.split()[1:3]
    assert state != "training" and version == "0", out
    status = s.status()
    assert status.model_version == 0 and status.training_state == "idle"
    assert "cancel" in status.last_training_error.lower(), status.last_training_error
    s.delete()
