"""The client: a channel with deadlines, retries of idempotent calls on
UNAVAILABLE with exponential backoff, batch ids on ingest (so a retried
stream stores each batch once) and the session id as `x-session-id`
metadata on every call of a session -- the rules of the C++ client
(client/aad_client.h)."""

from __future__ import annotations

import os
import secrets
import time
from typing import Any, List, Mapping, Optional, Sequence, Tuple, Union

import grpc
import numpy as np
import pandas as pd

from . import _data, _wire
from ._errors import (DataLossError, Error, InternalError, InvalidArgumentError,
                      from_rpc_error)
from ._progress import make_progress
from ._proto import aad_pb2, aad_pb2_grpc
from ._types import (CONFIG_FIELDS, Explanation, IngestResult, LabelResult, SessionConfig,
                     SessionStatus, TrainProgress)

SESSION_METADATA = "x-session-id"
_SERVICE = "/aad.v1.ActiveAnomalyDetection/"
_ARCHIVE_CHUNK = 1 << 20

# A verdict that takes a row's label back (Label.withdraw, undo).
WITHDRAW = "withdraw"

_SCORE_COLUMNS = pd.Index(["p", "s", "logit"])

PathLike = Union[str, "os.PathLike[str]"]


def _read_file(path: Optional[PathLike], option: str) -> Optional[bytes]:
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise type(e)(e.errno, f"aadd.Client: cannot read the {option} file {os.fspath(path)!r}: "
                      f"{e.strerror}") from None


class Client:
    """A connection to one aadd server.  Thread-safe (the channel is).

    ``target``: host:port.  ``timeout``: deadline of every call in seconds
    but train (``train_timeout``, default none: cancel with Ctrl-C).
    ``tls_ca`` / ``tls_cert`` / ``tls_key``: PEM files for a TLS channel
    (the CA that signed the server's certificate, and the client's own
    certificate and key for mutual TLS); ``tls=True`` with no CA uses the
    system's roots; ``tls_server_name`` overrides the name checked in the
    server's certificate.  ``token``: sent as `authorization: Bearer TOKEN`
    on every call (default: the AADD_TOKEN environment variable); use it
    over TLS.  ``max_attempts`` and ``initial_backoff`` (seconds, doubling)
    govern retries of idempotent calls that fail with UNAVAILABLE;
    ``ingest_batch_rows`` rows go in each Ingest message.
    """

    def __init__(self, target: str = "localhost:50051", *, timeout: Optional[float] = 60.0,
                 train_timeout: Optional[float] = None, tls: Optional[bool] = None,
                 tls_ca: Optional[PathLike] = None, tls_cert: Optional[PathLike] = None,
                 tls_key: Optional[PathLike] = None, tls_server_name: Optional[str] = None,
                 token: Optional[str] = None, max_attempts: int = 4,
                 initial_backoff: float = 0.1, ingest_batch_rows: int = 4096,
                 max_receive_message_bytes: int = 256 << 20,
                 channel_options: Sequence[Tuple[str, Any]] = ()):
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
        if ingest_batch_rows < 1:
            raise ValueError(f"ingest_batch_rows must be >= 1, got {ingest_batch_rows}")
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("tls_cert and tls_key go together (the client's certificate and "
                             f"its private key); got tls_cert={tls_cert!r}, tls_key={tls_key!r}")
        self.target = target
        self.timeout = timeout
        self.train_timeout = train_timeout
        self.max_attempts = max_attempts
        self.initial_backoff = initial_backoff
        self.ingest_batch_rows = ingest_batch_rows
        if token is None:
            token = os.environ.get("AADD_TOKEN") or None
        self._auth: Tuple[Tuple[str, str], ...] = (
            (("authorization", f"Bearer {token}"),) if token else ())
        use_tls = bool(tls) or any(x is not None for x in (tls_ca, tls_cert, tls_key))
        if tls is False and use_tls:
            raise ValueError("tls=False contradicts tls_ca/tls_cert/tls_key")
        self.tls = use_tls
        options = [("grpc.max_receive_message_length", max_receive_message_bytes),
                   ("grpc.max_send_message_length", -1), *channel_options]
        if use_tls:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=_read_file(tls_ca, "tls_ca"),
                private_key=_read_file(tls_key, "tls_key"),
                certificate_chain=_read_file(tls_cert, "tls_cert"))
            if tls_server_name:
                options.append(("grpc.ssl_target_name_override", tls_server_name))
            self._channel = grpc.secure_channel(target, credentials, options)
        else:
            self._channel = grpc.insecure_channel(target, options)
        self._stub = aad_pb2_grpc.ActiveAnomalyDetectionStub(self._channel)
        # Ingest and Score take bytes built from numpy (see _wire.packed_floats).
        self._ingest_raw = self._channel.stream_unary(
            _SERVICE + "Ingest", request_serializer=None,
            response_deserializer=aad_pb2.IngestResponse.FromString)
        self._score_raw = self._channel.unary_unary(
            _SERVICE + "Score", request_serializer=None,
            response_deserializer=aad_pb2.ScoreResponse.FromString)
        self._health = self._channel.unary_unary(
            "/grpc.health.v1.Health/Check", request_serializer=None, response_deserializer=None)

    # --- plumbing ---------------------------------------------------------

    def _metadata(self, session_id: str = "") -> Tuple[Tuple[str, str], ...]:
        if session_id:
            return ((SESSION_METADATA, session_id),) + self._auth
        return self._auth

    def _call(self, method, request, session_id: str = "", *, retry: bool = True,
              timeout: Optional[float] = None):
        """One unary call with the deadline and metadata; retried on
        UNAVAILABLE when ``retry`` (idempotent calls only)."""
        backoff = self.initial_backoff
        attempt = 1
        while True:
            try:
                return method(request, timeout=self.timeout if timeout is None else timeout,
                              metadata=self._metadata(session_id))
            except grpc.RpcError as e:
                if (retry and e.code() == grpc.StatusCode.UNAVAILABLE
                        and attempt < self.max_attempts):
                    # The client's retry policy, as in the C++ client.
                    time.sleep(backoff)
                    backoff *= 2
                    attempt += 1
                    continue
                raise from_rpc_error(e) from None

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"aadd.Client({self.target!r}{', tls' if self.tls else ''})"

    # --- sessions -----------------------------------------------------------

    def create_session(self, *, session_id: Optional[str] = None,
                       feature_names: Optional[Sequence[str]] = None,
                       feature_count: Optional[int] = None,
                       config: Optional[SessionConfig] = None, **settings) -> "Session":
        """A new session.  Settings are the SessionConfig fields as keywords
        (detector="autoencoder"|"deep_svdd", strategy="top"|"uncertain"|
        "diverse"|"random", seed=1, pretrain_epochs=..., ...); unset ones take
        the server's defaults.  The client picks the id unless given (and
        sends it as x-session-id, for a session-affine proxy).  Not retried:
        a retry after a lost reply would answer ALREADY_EXISTS."""
        unknown = sorted(set(settings) - set(CONFIG_FIELDS))
        if unknown:
            raise TypeError(f"create_session: unknown setting(s) {unknown}; "
                            f"the settings are {list(CONFIG_FIELDS)}")
        cfg = config if config is not None else SessionConfig()
        cfg = SessionConfig(**{**cfg.__dict__, **{k: v for k, v in settings.items()
                                                  if v is not None}})
        request = aad_pb2.CreateSessionRequest(
            config=cfg.to_proto(), session_id=session_id or secrets.token_hex(16))
        if feature_names is not None:
            request.feature_names.extend(str(n) for n in feature_names)
        if feature_count is not None:
            request.feature_count = int(feature_count)
        reply = self._call(self._stub.CreateSession, request, request.session_id, retry=False)
        return Session(self, reply.session)

    def session(self, session_id: str) -> "Session":
        """The session with this id (NotFoundError when there is none)."""
        reply = self._call(self._stub.GetSession,
                           aad_pb2.GetSessionRequest(session_id=session_id), session_id)
        return Session(self, reply.session)

    def sessions(self) -> List[SessionStatus]:
        """Every session on the server, ordered by id (all pages)."""
        out: List[SessionStatus] = []
        request = aad_pb2.ListSessionsRequest(page_size=100)
        while True:
            reply = self._call(self._stub.ListSessions, request)
            out.extend(SessionStatus.from_proto(s) for s in reply.sessions)
            if not reply.next_page_token:
                return out
            request.page_token = reply.next_page_token

    def import_session(self, source: Union[PathLike, bytes], session_id: Optional[str] = None
                       ) -> "Session":
        """Creates a session from an archive (a file written by
        Session.export or `aadctl export`, or its bytes), under its own id or
        ``session_id``.  The archive is checked here first, so a damaged file
        fails before any upload (DataLossError naming the file).  Not
        retried: a retry after a lost reply would answer ALREADY_EXISTS."""
        if isinstance(source, (bytes, bytearray, memoryview)):
            data, name = bytes(source), "archive bytes"
        else:
            name = os.fspath(source)
            with open(name, "rb") as f:
                data = f.read()
        stored_id = _wire.check_archive(data, name)
        target_id = session_id or stored_id

        def chunks():
            sent = 0
            first = True
            # At least one message, even for empty bytes.
            while first or sent < len(data):
                piece = data[sent:sent + _ARCHIVE_CHUNK]
                sent += len(piece)
                yield aad_pb2.ImportSessionRequest(session_id=target_id if first else "",
                                                   chunk=piece)
                first = False

        try:
            reply = self._stub.ImportSession(chunks(), timeout=self.timeout,
                                             metadata=self._metadata(target_id))
        except grpc.RpcError as e:
            err = from_rpc_error(e)
            raise type(err)(f"import of {name}: {err.message}", err.code) from None
        return Session(self, reply.session)

    def health(self) -> str:
        """grpc.health.v1 Check of the whole server: "SERVING", "NOT_SERVING", ..."""
        # HealthCheckRequest{service: ""} is zero bytes; the reply is
        # HealthCheckResponse{status = field 1, varint}. Debian ships no
        # generated health stubs.
        reply = self._call(self._health, b"")
        value = reply[1] if len(reply) >= 2 and reply[0] == 0x08 else 0
        return {1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}.get(value, "UNKNOWN")


def _labels_from(labels, verdicts) -> List[Tuple[int, object]]:
    """(row id, verdict) pairs from the forms label() takes."""
    if verdicts is not None:
        rows = list(np.asarray(labels).reshape(-1)) if not isinstance(labels, (list, tuple)) \
            else list(labels)
        if isinstance(verdicts, (str, bool, np.bool_, int, np.integer)):
            return [(r, verdicts) for r in rows]
        verdicts = list(verdicts)
        if len(verdicts) != len(rows):
            raise InvalidArgumentError(
                f"label: {len(rows)} row ids but {len(verdicts)} verdicts")
        return list(zip(rows, verdicts))
    if isinstance(labels, pd.Series):
        return list(zip(labels.index, labels.to_numpy()))
    if isinstance(labels, Mapping):
        return list(labels.items())
    pairs = list(labels)
    for p in pairs:
        if not (isinstance(p, (tuple, list)) and len(p) == 2):
            raise InvalidArgumentError(
                "label: give {row_id: verdict, ...}, a Series of verdicts indexed by row id, "
                f"(row_id, verdict) pairs, or row ids and verdicts; got the item {p!r}")
    return [tuple(p) for p in pairs]


def _verdict(row, value) -> aad_pb2.Label:
    if isinstance(row, bool) or not isinstance(row, (int, np.integer)):
        raise InvalidArgumentError(f"label: row id {row!r} is not an integer")
    label = aad_pb2.Label(row_id=int(row))
    if isinstance(value, str):
        v = value.lower()
        if v == "anomaly":
            label.anomaly = True
        elif v == "nominal":
            pass
        elif v == WITHDRAW:
            label.withdraw = True
        else:
            raise InvalidArgumentError(
                f"label: row {row}: verdict {value!r} is not anomaly, nominal or withdraw")
    elif isinstance(value, (bool, np.bool_)) or (isinstance(value, (int, np.integer))
                                                 and int(value) in (0, 1)):
        label.anomaly = bool(value)
    else:
        raise InvalidArgumentError(
            f"label: row {row}: verdict {value!r} is not True (anomaly), False (nominal) or "
            "'withdraw'")
    return label


class Session:
    """One session on the server; made by Client.create_session, .session or
    .import_session.  Every call sends the id as x-session-id metadata."""

    def __init__(self, client: Client, info: aad_pb2.SessionInfo):
        self._client = client
        self.id: str = info.session_id
        # The session's feature names as last seen (ingest and score put a
        # named frame's columns in this order).
        self._names: List[str] = list(info.feature_names)

    def __repr__(self) -> str:
        return f"aadd.Session({self.id!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Session) and other.id == self.id and \
            other._client is self._client

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def client(self) -> Client:
        return self._client

    def _call(self, method, request, **kw):
        return self._client._call(method, request, self.id, **kw)

    # --- state ----------------------------------------------------------------

    def status(self) -> SessionStatus:
        """The session's state: rows, labels, anomalies found, model version,
        training state, settings in force, feature names."""
        reply = self._call(self._client._stub.GetSession,
                           aad_pb2.GetSessionRequest(session_id=self.id))
        self._names = list(reply.session.feature_names)
        return SessionStatus.from_proto(reply.session)

    def delete(self) -> None:
        """Deletes the session and cancels its training.  Not retried."""
        self._call(self._client._stub.DeleteSession,
                   aad_pb2.DeleteSessionRequest(session_id=self.id), retry=False)

    # --- rows -------------------------------------------------------------------

    def ingest(self, data, *, feature_names: Optional[Sequence[str]] = None,
               batch_rows: Optional[int] = None, batch_prefix: Optional[str] = None
               ) -> IngestResult:
        """Appends rows to the pool: a DataFrame (its column names become the
        session's feature names, sent in the first message; a session that
        has names takes a frame with the same columns in any order) or a 2-D
        array.  Sent in batches of ``batch_rows`` with ids "PREFIX-N" (PREFIX
        random unless given) and retried whole on UNAVAILABLE: the server
        stores each batch once.  Checked before the wire: numeric columns,
        finite values, rectangular rows."""
        rows = _data.as_rows(data, "ingest")
        if feature_names is not None:
            names = [str(n) for n in feature_names]
            if len(names) != rows.features:
                raise InvalidArgumentError(
                    f"ingest: {len(names)} feature names for rows of {rows.features} features")
            rows = _data.Rows(rows.values, names, rows.index)
        rows = _data.align(rows, self._names, "ingest")
        per = batch_rows or self._client.ingest_batch_rows
        if per < 1:
            raise InvalidArgumentError(f"ingest: batch_rows must be >= 1, got {per}")
        prefix = batch_prefix or secrets.token_hex(8)
        messages = []
        for n, first in enumerate(range(0, rows.count, per)):
            head = aad_pb2.IngestRequest(session_id=self.id, batch_id=f"{prefix}-{n}",
                                         feature_count=rows.features)
            if n == 0 and rows.names:
                head.feature_names.extend(rows.names)  # the server takes them once
            messages.append(head.SerializeToString() + _wire.packed_floats(
                _wire.INGEST_VALUES_FIELD, rows.values[first:first + per]))
        client = self._client
        backoff = client.initial_backoff
        attempt = 1
        while True:
            try:
                reply = client._ingest_raw(iter(messages), timeout=client.timeout,
                                           metadata=client._metadata(self.id))
                break
            except grpc.RpcError as e:
                if e.code() == grpc.StatusCode.UNAVAILABLE and attempt < client.max_attempts:
                    time.sleep(backoff)
                    backoff *= 2
                    attempt += 1
                    continue
                raise from_rpc_error(e) from None
        if rows.names and not self._names:
            self._names = list(rows.names)
        first_row = reply.batches[0].first_row_id if reply.batches else 0
        return IngestResult(first_row_id=first_row, rows=rows.count,
                            total_rows=reply.total_rows,
                            duplicate_batches=sum(1 for b in reply.batches if b.duplicate))

    # --- training -------------------------------------------------------------

    def train(self, pretrain_epochs: Optional[int] = None, *, progress=None,
              timeout: Optional[float] = None) -> int:
        """Full training on the pool and the labels so far; returns the new
        model version.  ``progress``: None shows a bar on a terminal or in a
        notebook (tqdm when installed), True always, False never, or a
        callable that gets every TrainProgress.  Ctrl-C cancels the run on
        the server (the previous model stays) and raises KeyboardInterrupt
        once the server has stopped it.  Not retried."""
        request = aad_pb2.TrainRequest(session_id=self.id)
        if pretrain_epochs is not None:
            request.pretrain_epochs = int(pretrain_epochs)
        client = self._client
        deadline = timeout if timeout is not None else client.train_timeout
        bar = make_progress(progress)
        version = 0
        call = client._stub.Train(request, timeout=deadline, metadata=client._metadata(self.id))
        try:
            for m in call:
                if m.done:
                    version = m.model_version
                bar.update(TrainProgress(m.epoch, m.epochs, m.loss, m.rows_per_second, m.done,
                                         m.model_version))
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None
        except KeyboardInterrupt:
            call.cancel()
            bar.close()
            bar = None
            self._wait_until_not_training()
            raise
        finally:
            if bar is not None:
                bar.close()
        if version == 0:
            raise InternalError("training stream ended without a model version")
        return version

    def _wait_until_not_training(self, limit: float = 10.0) -> None:
        """After a cancel: until the server reports the run stopped (or
        ``limit`` seconds), so that KeyboardInterrupt means it is stopped."""
        end = time.monotonic() + limit
        while time.monotonic() < end:
            try:
                if self.status().training_state != "training":
                    return
            except Error:
                return
            time.sleep(0.05)

    # --- the active loop ------------------------------------------------------

    def candidates(self, k: int = 10, *, strategy: Optional[str] = None,
                   seed: Optional[int] = None, explain_top: Optional[int] = None
                   ) -> pd.DataFrame:
        """The ``k`` unlabelled rows the expert should look at next, best
        first: a DataFrame indexed by row id with p (active score), s
        (unsupervised score), the features by name and, when the server
        gives one, an ``explanation`` column (aadd.Explanation).  The model
        version is in ``.attrs["model_version"]``.  ``strategy``: top,
        uncertain, diverse, random (default: the session's); ``seed``: of
        random and diverse picks (default: the session's rule);
        ``explain_top``: features per explanation (0: none)."""
        request = aad_pb2.GetQueryCandidatesRequest(
            session_id=self.id, k=int(k),
            strategy=_wire.enum_value(aad_pb2.QueryStrategy, strategy, "strategy"))
        if seed is not None:
            request.seed = int(seed)
        if explain_top is not None:
            request.explain_top = int(explain_top)
        reply = self._call(self._client._stub.GetQueryCandidates, request)
        ids = np.fromiter(reply.row_ids, dtype=np.int64, count=len(reply.row_ids))
        d = reply.feature_count
        values = _wire.floats(reply.values, (len(ids), d)) if d > 0 else \
            np.zeros((len(ids), 0), dtype=np.float32)
        if reply.feature_names:
            self._names = list(reply.feature_names)
        names = list(reply.feature_names) or [f"f{j}" for j in range(d)]
        frame = {"p": _wire.floats(reply.p), "s": _wire.floats(reply.s)}
        reserved = {"p", "s", "explanation"}
        for j, name in enumerate(names):
            frame[name if name not in reserved else f"{name} (feature)"] = values[:, j]
        df = pd.DataFrame(frame, index=pd.Index(ids, name="row_id"))
        if len(reply.explanations):
            df["explanation"] = [Explanation.from_proto(e) for e in reply.explanations]
        df.attrs["model_version"] = reply.model_version
        df.attrs["session_id"] = self.id
        return df

    def label(self, labels, verdicts=None, *, wait: bool = False) -> LabelResult:
        """The expert's verdicts: ``label({696: True, 802: False})``, a Series
        of verdicts indexed by row id, (row, verdict) pairs, or
        ``label(row_ids, verdicts)`` (one verdict for all, or one each).  A
        verdict is True / "anomaly", False / "nominal", or "withdraw"
        (aadd.WITHDRAW: take the row's verdict back).  Relabelling a row
        replaces its label.  ``wait``: return once a model that includes the
        labels is published.  Retried on UNAVAILABLE unless it withdraws
        (a retry after a lost reply would find the row unlabelled)."""
        pairs = _labels_from(labels, verdicts)
        if not pairs:
            raise InvalidArgumentError("label: no verdicts")
        request = aad_pb2.SubmitLabelsRequest(session_id=self.id, wait_for_model=bool(wait))
        request.labels.extend(_verdict(r, v) for r, v in pairs)
        withdraws = any(l.withdraw for l in request.labels)
        reply = self._call(self._client._stub.SubmitLabels, request, retry=not withdraws)
        return LabelResult(reply.labels, reply.model_version, reply.update_scheduled)

    def withdraw(self, row_ids, *, wait: bool = False) -> LabelResult:
        """Takes the verdicts of ``row_ids`` back (undo)."""
        if isinstance(row_ids, (int, np.integer)):
            row_ids = [row_ids]
        return self.label(row_ids, WITHDRAW, wait=wait)

    def score(self, data=None, *, row_ids=None, explain: bool = False,
              explain_top: Optional[int] = None, batch_rows: int = 4096) -> pd.DataFrame:
        """Scores rows with the newest model: ``data`` (a DataFrame with the
        session's columns, in any order, or a 2-D array) or ``row_ids`` of
        the pool.  A DataFrame of p (active score), s (unsupervised score) and
        logit, one row per input row (indexed like the input frame, or by row
        id), with ``.attrs["model_version"]``; ``explain`` adds an
        ``explanation`` column.  Sent in batches of ``batch_rows``; retried on
        UNAVAILABLE.  FailedPreconditionError before any model exists."""
        if (data is None) == (row_ids is None):
            raise InvalidArgumentError("score: give rows (data) or row_ids, not both")
        head = aad_pb2.ScoreRequest(session_id=self.id, explain=bool(explain))
        if explain_top is not None:
            head.explain_top = int(explain_top)
        requests = []
        if data is not None:
            rows = _data.align(_data.as_rows(data, "score"), self._names, "score")
            head.feature_count = rows.features
            prefix = head.SerializeToString()
            for first in range(0, rows.count, max(1, batch_rows)):
                requests.append(prefix + _wire.packed_floats(
                    _wire.SCORE_VALUES_FIELD, rows.values[first:first + batch_rows]))
            index = rows.index if rows.index is not None else pd.RangeIndex(rows.count)
        else:
            ids = np.asarray(row_ids, dtype=np.int64).reshape(-1)
            if ids.size == 0:
                raise InvalidArgumentError("score: no row ids")
            for first in range(0, ids.size, max(1, batch_rows)):
                r = aad_pb2.ScoreRequest()
                r.CopyFrom(head)
                r.row_ids.extend(int(i) for i in ids[first:first + batch_rows])
                requests.append(r.SerializeToString())
            index = pd.Index(ids, name="row_id")
        p, s, logit, explanations = [], [], [], []
        version = 0
        for request in requests:
            reply = self._call(self._client._score_raw, request)
            p.append(_wire.floats(reply.p))
            s.append(_wire.floats(reply.s))
            logit.append(_wire.floats(reply.logit))
            explanations.extend(Explanation.from_proto(e) for e in reply.explanations)
            version = reply.model_version
        # One float32 block under a prebuilt column index: a fifth of the cost
        # of three columns by name, which single-row calls in a loop pay each time.
        df = pd.DataFrame(np.column_stack((np.concatenate(p), np.concatenate(s),
                                           np.concatenate(logit))),
                          index=index, columns=_SCORE_COLUMNS)
        if explain:
            df["explanation"] = explanations
        df.attrs["model_version"] = version
        df.attrs["session_id"] = self.id
        return df

    # --- moving a session -------------------------------------------------------

    def export_bytes(self) -> bytes:
        """The session as one archive (rows, batch ids, label history, newest
        model, checksum): the bytes `aadctl export` writes.  Retried on
        UNAVAILABLE; DataLossError when the stream ends short."""
        client = self._client
        backoff = client.initial_backoff
        attempt = 1
        while True:
            parts: List[bytes] = []
            announced = 0
            try:
                stream = client._stub.ExportSession(
                    aad_pb2.ExportSessionRequest(session_id=self.id), timeout=client.timeout,
                    metadata=client._metadata(self.id))
                for i, m in enumerate(stream):
                    if i == 0:
                        announced = m.total_bytes
                    parts.append(m.chunk)
                break
            except grpc.RpcError as e:
                if e.code() == grpc.StatusCode.UNAVAILABLE and attempt < client.max_attempts:
                    time.sleep(backoff)
                    backoff *= 2
                    attempt += 1
                    continue
                raise from_rpc_error(e) from None
        archive = b"".join(parts)
        if len(archive) != announced:
            raise DataLossError(f"export of session {self.id} ended after {len(archive)} of "
                                f"{announced} bytes")
        _wire.check_archive(archive, f"export of session {self.id}")
        return archive

    def export(self, path: PathLike) -> int:
        """Writes the session's archive to ``path`` atomically (a temporary
        file beside it, fsync, rename) after checking its checksum; returns
        its size in bytes.  Client.import_session (or `aadctl import`)
        recreates the session, bit for bit."""
        archive = self.export_bytes()
        path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(path))
        tmp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(archive)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return len(archive)
