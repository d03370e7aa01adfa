"""Plain Python values for the wire's messages."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import List, Optional, Tuple

import pandas as pd

from ._proto import aad_pb2
from ._wire import enum_name, enum_value


@dataclass
class SessionConfig:
    """A session's model settings (aad.proto SessionConfig).  In a session's
    status every field holds the value in force; to create_session() pass
    any of them as keyword arguments (None: the server's default)."""

    detector: Optional[str] = None          # autoencoder | deep_svdd
    strategy: Optional[str] = None          # top | uncertain | diverse | random
    hidden_units: Optional[int] = None
    latent_units: Optional[int] = None
    pretrain_epochs: Optional[int] = None
    batch_size: Optional[int] = None
    learning_rate: Optional[float] = None
    forest_trees: Optional[int] = None
    prior_strength: Optional[float] = None
    freeze_detector: Optional[bool] = None
    finetune_steps: Optional[int] = None
    seed: Optional[int] = None
    max_pretrain_rows: Optional[int] = None
    leaf_inputs: Optional[bool] = None
    leaf_input_scale: Optional[float] = None

    @classmethod
    def from_proto(cls, c: aad_pb2.SessionConfig) -> "SessionConfig":
        values = {}
        for f in fields(cls):
            if f.name == "detector":
                values[f.name] = enum_name(aad_pb2.DetectorKind, c.detector)
            elif f.name == "strategy":
                values[f.name] = enum_name(aad_pb2.QueryStrategy, c.strategy)
            else:
                values[f.name] = getattr(c, f.name) if c.HasField(f.name) else None
        return cls(**values)

    def to_proto(self) -> aad_pb2.SessionConfig:
        c = aad_pb2.SessionConfig()
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if f.name == "detector":
                c.detector = enum_value(aad_pb2.DetectorKind, value, "detector")
            elif f.name == "strategy":
                c.strategy = enum_value(aad_pb2.QueryStrategy, value, "strategy")
            else:
                setattr(c, f.name, value)
        return c


CONFIG_FIELDS = tuple(f.name for f in fields(SessionConfig))


@dataclass
class SessionStatus:
    """A session as the server sees it (aad.proto SessionInfo)."""

    session_id: str
    config: SessionConfig
    feature_count: int
    feature_names: List[str]
    rows: int
    labels: int
    anomalies: int
    model_version: int
    training_state: str                     # idle | training | updating
    last_training_error: str
    model_rows: int
    label_rounds: int

    @classmethod
    def from_proto(cls, s: aad_pb2.SessionInfo) -> "SessionStatus":
        return cls(
            session_id=s.session_id,
            config=SessionConfig.from_proto(s.config),
            feature_count=s.feature_count,
            feature_names=list(s.feature_names),
            rows=s.rows,
            labels=s.labels,
            anomalies=s.anomalies,
            model_version=s.model_version,
            training_state=enum_name(aad_pb2.TrainingState, s.training_state),
            last_training_error=s.last_training_error,
            model_rows=s.model_rows,
            label_rounds=s.label_rounds,
        )


@dataclass(frozen=True)
class Contribution:
    """What one feature adds to a row's logit (aad.proto FeatureContribution)."""

    feature: int
    name: str
    contribution: float
    value: float
    typical: float
    spread: float

    @property
    def label(self) -> str:
        return self.name or f"f{self.feature}"


@dataclass(frozen=True)
class Explanation:
    """A row's logit as base + contributions + rest + unattributed
    (aad.proto Explanation); ``top`` holds the largest contributions first."""

    top: Tuple[Contribution, ...]
    rest: float
    unattributed: float
    logit: float
    base: float

    @classmethod
    def from_proto(cls, e: aad_pb2.Explanation) -> "Explanation":
        return cls(
            top=tuple(Contribution(c.feature, c.name, c.contribution, c.value, c.typical, c.spread)
                      for c in e.top),
            rest=e.rest, unattributed=e.unattributed, logit=e.logit, base=e.base)

    def to_frame(self) -> pd.DataFrame:
        """The top contributions as a DataFrame indexed by feature name."""
        return pd.DataFrame(
            {"contribution": [c.contribution for c in self.top],
             "value": [c.value for c in self.top],
             "typical": [c.typical for c in self.top],
             "spread": [c.spread for c in self.top]},
            index=pd.Index([c.label for c in self.top], name="feature"))

    def __str__(self) -> str:
        return ", ".join(f"{c.label} {c.contribution:+.2f}" for c in self.top)

    def __repr__(self) -> str:
        return f"Explanation({self}; logit {self.logit:.3f}, base {self.base:.3f})"


@dataclass(frozen=True)
class TrainProgress:
    """One message of a training run (aad.proto TrainResponse)."""

    epoch: int
    epochs: int
    loss: float
    rows_per_second: float
    done: bool
    model_version: int


@dataclass(frozen=True)
class IngestResult:
    """Where an ingest's rows went: ids first_row_id .. first_row_id+rows-1."""

    first_row_id: int
    rows: int
    total_rows: int               # rows in the session after the call
    duplicate_batches: int = 0    # batches the server had stored before (a retry)

    @property
    def row_ids(self) -> range:
        return range(self.first_row_id, self.first_row_id + self.rows)


@dataclass(frozen=True)
class LabelResult:
    """A SubmitLabels reply."""

    labels: int                   # labelled rows after the call
    model_version: int            # with wait: the version including the labels
    update_scheduled: bool        # False before any model exists


@dataclass
class SimulationResult:
    """One run of the discovery protocol (what aadctl simulate reports)."""

    session_id: str
    seed: int
    budget: int
    shown: List[int]                         # row ids, in the order shown
    curve: List[Tuple[int, int]]             # (rows shown, anomalies found), aadctl's points
    found: List[int]                         # anomalies found after each row shown
    discovered: int
    baseline_discovered: int                 # anomalies in the unsupervised top `budget`
    auc_roc: float
    average_precision: float
    baseline_auc_roc: float
    update_ms_mean: float
    update_ms_p95: float
    train_seconds: float
    seconds: float
    update_ms: List[float] = field(default_factory=list, repr=False)
