"""Training progress: tqdm when it is installed, else one line redrawn on a
terminal; nothing when neither a terminal nor a notebook is watching."""

from __future__ import annotations

import sys
from typing import Callable, Optional

from ._types import TrainProgress


def _in_notebook() -> bool:
    return "ipykernel" in sys.modules


def _interactive(stream) -> bool:
    if _in_notebook():
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _TqdmBar:
    def __init__(self, tqdm_class):
        self._tqdm_class = tqdm_class
        self._bar = None
        self._epoch = 0

    def update(self, m: TrainProgress) -> None:
        if m.done or m.epochs <= 0:
            return
        if self._bar is None:
            self._bar = self._tqdm_class(total=m.epochs, desc="train", unit="epoch", leave=True)
        self._bar.update(max(0, m.epoch - self._epoch))
        self._epoch = m.epoch
        self._bar.set_postfix(loss=f"{m.loss:.5f}", rows_s=f"{m.rows_per_second:.0f}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


class _LineBar:
    """aadctl's bar: `[####      ] epoch 3/10 loss 0.01234 45678 rows/s`."""

    WIDTH = 30

    def __init__(self, stream):
        self._stream = stream
        self._drawn = False

    def update(self, m: TrainProgress) -> None:
        if m.done or m.epochs <= 0:
            return
        filled = self.WIDTH * m.epoch // m.epochs
        self._stream.write(
            f"\r[{'#' * filled}{' ' * (self.WIDTH - filled)}] epoch {m.epoch}/{m.epochs} "
            f"loss {m.loss:.5f} {m.rows_per_second:.0f} rows/s")
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()


class _Callback:
    def __init__(self, fn: Callable[[TrainProgress], None]):
        self._fn = fn

    def update(self, m: TrainProgress) -> None:
        self._fn(m)

    def close(self) -> None:
        pass


class _Nothing:
    def update(self, m: TrainProgress) -> None:
        pass

    def close(self) -> None:
        pass


def make_progress(progress, stream=None):
    """``progress``: None (a bar when a terminal or notebook watches),
    True (a bar always), False (none), or a callable taking TrainProgress."""
    stream = stream if stream is not None else sys.stderr
    if callable(progress) and not isinstance(progress, bool):
        return _Callback(progress)
    if progress is False or (progress is None and not _interactive(stream)):
        return _Nothing()
    tqdm_class: Optional[type] = None
    try:
        if _in_notebook():
            from tqdm.auto import tqdm as tqdm_class  # a widget where ipywidgets is there
        else:
            from tqdm import tqdm as tqdm_class
    except ImportError:
        tqdm_class = None
    if tqdm_class is not None:
        return _TqdmBar(tqdm_class)
    return _LineBar(stream)
