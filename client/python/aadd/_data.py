"""Rows as the wire wants them: a C-contiguous float32 matrix, checked here.

The server refuses NaN, Inf and a wrong feature count too, but a client
that knows the columns can say which one: every check below names the
column (by name for a DataFrame, by position for an array) and a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd

from ._errors import InvalidArgumentError

_FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass
class Rows:
    """Checked rows: ``values`` (rows x features, float32, C order), the
    column names when the input had them, and the input's index (DataFrame)."""

    values: np.ndarray
    names: Optional[list]
    index: Optional[pd.Index]

    @property
    def count(self) -> int:
        return int(self.values.shape[0])

    @property
    def features(self) -> int:
        return int(self.values.shape[1])


def _column_label(names: Optional[Sequence[Any]], j: int) -> str:
    if names is not None:
        return f"column {names[j]!r}"
    return f"column {j}"


def _describe(value: float) -> str:
    if np.isnan(value):
        return "NaN"
    return "inf" if value > 0 else "-inf"


def _check_finite(values64: np.ndarray, names, index, what: str) -> np.ndarray:
    """float64 matrix -> float32 matrix; raises naming the first bad column."""
    finite = np.isfinite(values64)
    if not finite.all():
        bad_columns = np.flatnonzero(~finite.all(axis=0))
        j = int(bad_columns[0])
        i = int(np.flatnonzero(~finite[:, j])[0])
        row = index[i] if index is not None else i
        count = int((~finite[:, j]).sum())
        more = ""
        if len(bad_columns) > 1:
            others = ", ".join(_column_label(names, int(k)) for k in bad_columns[1:4])
            more = f"; also {others}" + (" ..." if len(bad_columns) > 4 else "")
        raise InvalidArgumentError(
            f"{what}: {_column_label(names, j)} holds {_describe(values64[i, j])} at row {row!r} "
            f"({count} non-finite value{'s' if count != 1 else ''} in that column{more}); "
            "aadd takes finite numbers only (fill or drop them first, e.g. df.dropna())")
    too_big = np.abs(values64) > _FLOAT32_MAX
    if too_big.any():
        j = int(np.flatnonzero(too_big.any(axis=0))[0])
        i = int(np.flatnonzero(too_big[:, j])[0])
        row = index[i] if index is not None else i
        raise InvalidArgumentError(
            f"{what}: {_column_label(names, j)} holds {values64[i, j]!r} at row {row!r}, "
            "out of range for float32 (the wire's type)")
    return np.ascontiguousarray(values64, dtype=np.float32)


def _numeric(dtype) -> bool:
    if isinstance(dtype, np.dtype):
        return dtype.kind in "biuf"
    return (pd.api.types.is_bool_dtype(dtype) or
            (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype)))


def _from_frame(df: pd.DataFrame, what: str) -> Rows:
    columns = list(df.columns)
    if not columns:
        raise InvalidArgumentError(f"{what}: the DataFrame has no columns")
    if len(df) == 0:
        raise InvalidArgumentError(f"{what}: the DataFrame has no rows")
    # Names travel only when every column has a string name: a frame made
    # from an array has 0, 1, 2, ... which name nothing.
    names = [str(c) for c in columns] if all(isinstance(c, str) for c in columns) else None
    if names is not None:
        seen = {}
        for j, n in enumerate(names):
            if n in seen:
                raise InvalidArgumentError(
                    f"{what}: column name {n!r} appears twice (positions {seen[n]} and {j}); "
                    "feature names must be unique")
            seen[n] = j
    shown = columns
    for j, dtype in enumerate(df.dtypes):
        if not _numeric(dtype):
            col = df.iloc[:, j]
            example = ""
            for i, v in enumerate(col.to_numpy()):
                if not isinstance(v, (int, float, np.number, bool, np.bool_)):
                    example = f", e.g. {v!r} at row {df.index[i]!r}"
                    break
            raise InvalidArgumentError(
                f"{what}: {_column_label(shown, j)} is not numeric (dtype {dtype}{example}); "
                "aadd takes numeric columns only: drop it (a ground-truth label, an id) or "
                "convert it, e.g. df.drop(columns=[...]) or df[col].astype(float)")
    # One conversion for the whole frame (pandas' nullable NA becomes NaN,
    # which the check below names).
    values64 = df.to_numpy(dtype=np.float64, na_value=np.nan)
    values = _check_finite(values64, shown, df.index, what)
    return Rows(values, names, df.index)


def _first_ragged(rows: Sequence[Any]) -> Optional[str]:
    lengths = []
    for r in rows:
        if isinstance(r, (list, tuple, np.ndarray, pd.Series)):
            lengths.append(len(r))
        else:
            return None  # a flat sequence: one row
    for i, n in enumerate(lengths):
        if n != lengths[0]:
            return f"row {i} has {n} values, row 0 has {lengths[0]}"
    return None


def _from_array(data: Any, what: str) -> Rows:
    if isinstance(data, np.ndarray) and data.dtype != object:
        arr = data
    else:
        seq = list(data) if isinstance(data, np.ndarray) else data
        if isinstance(seq, (list, tuple)):
            ragged = _first_ragged(seq)
            if ragged:
                raise InvalidArgumentError(f"{what}: ragged rows: {ragged}")
        try:
            arr = np.asarray(seq)
        except ValueError as e:
            raise InvalidArgumentError(f"{what}: not a rectangular array of numbers: {e}") from None
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)  # one row
    if arr.ndim != 2:
        raise InvalidArgumentError(
            f"{what}: rows must be a 2-D array (rows x features), got {arr.ndim} dimensions "
            f"{arr.shape}")
    if arr.shape[0] == 0:
        raise InvalidArgumentError(f"{what}: no rows")
    if arr.shape[1] == 0:
        raise InvalidArgumentError(f"{what}: rows of 0 features")
    if arr.dtype.kind not in "biuf":
        for j in range(arr.shape[1]):
            for i in range(arr.shape[0]):
                v = arr[i, j]
                if isinstance(v, (bool, np.bool_, int, float, np.integer, np.floating)):
                    continue
                raise InvalidArgumentError(
                    f"{what}: column {j} is not numeric: {v!r} at row {i} (dtype {arr.dtype})")
        arr = arr.astype(np.float64)
    if arr.dtype == np.float32 and np.isfinite(arr).all():
        # Already the wire's type and finite: no float64 copy.
        return Rows(np.ascontiguousarray(arr), None, None)
    return Rows(_check_finite(arr.astype(np.float64, copy=False), None, None, what), None, None)


def as_rows(data: Any, what: str) -> Rows:
    """Rows from a DataFrame, a Series (one row), a 2-D ndarray or nested
    sequences (a 1-D one is one row).  Raises InvalidArgumentError naming
    the column for non-numeric columns, NaN/Inf, ragged rows."""
    if isinstance(data, pd.DataFrame):
        return _from_frame(data, what)
    if isinstance(data, pd.Series):
        return _from_frame(data.to_frame().T, what)
    return _from_array(data, what)


def align(rows: Rows, session_names: Optional[Sequence[str]], what: str) -> Rows:
    """Puts a named frame's columns in the session's order.  A frame whose
    names are the session's in another order is reordered; other names are
    an error listing the missing and unexpected columns.  Unnamed rows, and
    sessions without names, go as they are (the server checks the count)."""
    if rows.names is None or not session_names:
        return rows
    want = list(session_names)
    if rows.names == want:
        return rows
    missing = [n for n in want if n not in rows.names]
    extra = [n for n in rows.names if n not in want]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {missing}")
        if extra:
            parts.append(f"unexpected {extra}")
        raise InvalidArgumentError(
            f"{what}: the columns are not the session's features ({', '.join(parts)}); "
            f"the session has {want}")
    order = [rows.names.index(n) for n in want]
    return Rows(np.ascontiguousarray(rows.values[:, order]), want, rows.index)
