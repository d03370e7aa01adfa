"""The discovery protocol of aad-eval and `aadctl simulate`, over the wire,
with a simulated expert who reads the ground truth (client/simulation.cc):
the same seeds and rounds, so the same data and seed show the same rows."""

from __future__ import annotations

import time
from typing import List, Sequence

import numpy as np
import pandas as pd

from ._client import Client
from ._errors import InternalError, InvalidArgumentError
from ._types import SimulationResult


def query_seed(config_seed: int, round_: int) -> int:
    """The seed a query of feedback round ``round_`` uses (1 = before the
    first label update): core/active/pool_scores.h QuerySeed."""
    return (config_seed * 1000003 + round_) % (1 << 64)


def _ranked(scores: np.ndarray) -> np.ndarray:
    """Row indices by descending score, ties by lower index, NaN last
    (core/eval/metrics.cc RanksBefore)."""
    scores = np.asarray(scores, dtype=np.float32)
    nan = np.isnan(scores)
    key = np.where(nan, np.float32(0), -scores)
    return np.lexsort((np.arange(scores.size), key, nan))


def roc_auc(scores, labels) -> float:
    """ROC AUC as core/eval/metrics.cc computes it (ties count half)."""
    scores = np.asarray(scores, dtype=np.float32)
    labels = np.asarray(labels) != 0
    if scores.size != labels.size:
        return float("nan")
    negatives = int((~labels).sum())
    positives = labels.size - negatives
    if positives == 0 or negatives == 0:
        return 0.5
    order = _ranked(scores)
    s = scores[order]
    lab = labels[order]
    wins = 0.0
    negatives_below = negatives
    n = s.size
    start = 0
    while start < n:
        end = start
        group_pos = group_neg = 0
        first = s[start]
        while end < n and (s[end] == first or (np.isnan(s[end]) and np.isnan(first))):
            if lab[end]:
                group_pos += 1
            else:
                group_neg += 1
            end += 1
        negatives_below -= group_neg
        wins += float(group_pos) * (float(negatives_below) + 0.5 * float(group_neg))
        start = end
    return wins / (float(positives) * float(negatives))


def average_precision(scores, labels) -> float:
    """Mean precision@k over the ranks k of the anomalies (metrics.cc)."""
    scores = np.asarray(scores, dtype=np.float32)
    labels = np.asarray(labels) != 0
    if scores.size != labels.size:
        return float("nan")
    total = 0.0
    hits = 0
    for k, row in enumerate(_ranked(scores)):
        if not labels[row]:
            continue
        hits += 1
        total += hits / (k + 1)
    return 0.0 if hits == 0 else total / hits


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank; 0 for no values."""
    if len(values) == 0:
        return 0.0
    v = sorted(values)
    return v[min(len(v) - 1, int(q * (len(v) - 1) + 0.5))]


def _truth(data, truth, anomaly_value):
    if isinstance(truth, str) and isinstance(data, pd.DataFrame):
        if truth not in data.columns:
            raise InvalidArgumentError(
                f"simulate: no ground-truth column {truth!r} (columns: {list(data.columns)})")
        return data.drop(columns=[truth]), _truth_values(data[truth], anomaly_value, truth)
    return data, _truth_values(truth, anomaly_value, "truth")


def _truth_values(truth, anomaly_value, what) -> np.ndarray:
    values = truth.to_numpy() if isinstance(truth, (pd.Series, pd.Index)) else np.asarray(truth)
    values = values.reshape(-1)
    if values.dtype.kind in "biuf":
        if values.dtype.kind == "f" and np.isnan(values).any():
            raise InvalidArgumentError(f"simulate: {what} holds NaN")
        return (values != 0).astype(np.uint8)
    # Strings (a CSV's label column): the anomaly value marks an anomaly,
    # any other value a nominal row, as aadctl simulate reads --anomaly_value.
    return np.array([v == anomaly_value for v in values], dtype=np.uint8)


def simulate(client: Client, data, truth, budget: int = 100, *, batch: int = 1,
             strategy: str = "top", seed: int = 1, anomaly_value: str = "anomaly",
             delete: bool = True, progress=False, **settings) -> SimulationResult:
    """Runs the active loop with a simulated expert who knows ``truth``.

    ``data``: the rows (DataFrame or 2-D array); ``truth``: one verdict per
    row (booleans, 0/1, or strings where ``anomaly_value`` marks an anomaly)
    or the name of a column of ``data`` holding them (it is not ingested).
    A new session (``seed``, ``strategy`` and any SessionConfig setting as
    keywords) gets the rows and trains; then, until ``budget`` rows are
    shown, the expert labels the ``batch`` rows the server proposes and
    waits for the updated model.  The result holds the rows shown, the
    discovery curve (anomalies found against rows shown; ``curve`` has
    aadctl's points, ``found`` every one), the unsupervised baseline and the
    final ROC AUC, as `aadctl simulate --json` reports them."""
    features, labels = _truth(data, truth, anomaly_value)
    rows = len(features) if isinstance(features, pd.DataFrame) else np.asarray(features).shape[0]
    if labels.size != rows:
        raise InvalidArgumentError(f"simulate: {labels.size} verdicts for {rows} rows")
    if budget < 1 or batch < 1:
        raise InvalidArgumentError(f"simulate: budget and batch must be >= 1, got {budget} and "
                                   f"{batch}")
    start = time.monotonic()
    session = client.create_session(seed=seed, strategy=strategy, **settings)
    try:
        ingested = session.ingest(features)
        if ingested.total_rows != rows or ingested.first_row_id != 0:
            raise InternalError(f"session {session.id} holds {ingested.total_rows} rows after "
                                f"ingesting {rows}")
        session.train(progress=progress)
        train_seconds = time.monotonic() - start
        budget = min(budget, rows)

        # The unsupervised baseline: the top `budget` rows of the first ranking.
        initial = session.candidates(budget, strategy="top", seed=query_seed(seed, 0),
                                     explain_top=0)
        baseline_discovered = int(labels[initial.index.to_numpy()[:budget]].sum())
        all_rows = np.arange(rows, dtype=np.int64)
        baseline_auc = roc_auc(session.score(row_ids=all_rows, batch_rows=rows)["s"].to_numpy(),
                               labels)

        shown: List[int] = []
        update_ms: List[float] = []
        round_ = 1
        while len(shown) < budget:
            k = min(batch, budget - len(shown))
            c = session.candidates(k, strategy=strategy, seed=query_seed(seed, round_),
                                   explain_top=0)
            if len(c) == 0:
                break
            ids = [int(i) for i in c.index]
            shown.extend(ids)
            t0 = time.monotonic()
            reply = session.label(ids, [bool(labels[i]) for i in ids], wait=True)
            update_ms.append((time.monotonic() - t0) * 1000.0)
            if reply.labels != len(shown):
                raise InternalError(f"session {session.id} holds {reply.labels} labels, the "
                                    f"expert gave {len(shown)}")
            round_ += 1
        final = session.score(row_ids=all_rows, batch_rows=rows)["logit"].to_numpy()
    except BaseException:
        if delete:
            try:
                session.delete()
            except Exception:
                pass
        raise
    found = np.cumsum(labels[np.asarray(shown, dtype=np.int64)]).tolist() if shown else []
    total = len(shown)
    step = max(1, total // 10)
    curve = [(i + 1, int(found[i])) for i in range(total) if (i + 1) % step == 0 or i + 1 == total]
    result = SimulationResult(
        session_id=session.id, seed=seed, budget=budget, shown=shown, curve=curve,
        found=[int(f) for f in found], discovered=int(found[-1]) if found else 0,
        baseline_discovered=baseline_discovered, auc_roc=roc_auc(final, labels),
        average_precision=average_precision(final, labels), baseline_auc_roc=baseline_auc,
        update_ms_mean=float(np.mean(update_ms)) if update_ms else 0.0,
        update_ms_p95=percentile(update_ms, 0.95), train_seconds=train_seconds,
        seconds=0.0, update_ms=update_ms)
    if delete:
        session.delete()
    result.seconds = time.monotonic() - start
    return result
