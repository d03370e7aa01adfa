"""aadd: the Python client of the aadd active anomaly detection service.

    import aadd
    client = aadd.Client("localhost:50051")
    s = client.create_session(seed=1)
    s.ingest(df)                       # DataFrame (names become feature names) or 2-D array
    s.train()                          # a progress bar on a terminal; Ctrl-C cancels
    c = s.candidates(k=5)              # DataFrame indexed by row id: p, s, features, explanation
    s.label({696: True, 802: False}, wait=True)
    scores = s.score(new_df)           # p, s, logit; .attrs["model_version"]
    s.status()                         # aadd.SessionStatus

Errors are aadd.Error subclasses with the gRPC code and the server's message.
The wire contract is proto/aad/v1/aad.proto; the stubs are in aadd._proto.
"""

from ._client import WITHDRAW, Client, Session
from ._errors import (AlreadyExistsError, CancelledError, DataLossError, DeadlineExceededError,
                      Error, FailedPreconditionError, InternalError, InvalidArgumentError,
                      NotFoundError, PermissionDeniedError, ResourceExhaustedError,
                      UnauthenticatedError, UnavailableError, UnimplementedError)
from ._simulate import average_precision, query_seed, roc_auc, simulate
from ._types import (Contribution, Explanation, IngestResult, LabelResult, SessionConfig,
                     SessionStatus, SimulationResult, TrainProgress)

__version__ = "0.1.0"

# Public names show as aadd.X (tracebacks, reprs), not as the private module
# that defines them.
for _name in ("Client", "Session", "SessionConfig", "SessionStatus", "Explanation",
              "Contribution", "IngestResult", "LabelResult", "TrainProgress", "SimulationResult",
              "Error", "CancelledError", "InvalidArgumentError", "DeadlineExceededError",
              "NotFoundError", "AlreadyExistsError", "PermissionDeniedError",
              "ResourceExhaustedError", "FailedPreconditionError", "UnimplementedError",
              "InternalError", "UnavailableError", "DataLossError", "UnauthenticatedError"):
    globals()[_name].__module__ = __name__
del _name

__all__ = [
    "Client", "Session", "WITHDRAW", "simulate", "query_seed", "roc_auc", "average_precision",
    "SessionConfig", "SessionStatus", "Explanation", "Contribution", "IngestResult",
    "LabelResult", "TrainProgress", "SimulationResult",
    "Error", "CancelledError", "InvalidArgumentError", "DeadlineExceededError", "NotFoundError",
    "AlreadyExistsError", "PermissionDeniedError", "ResourceExhaustedError",
    "FailedPreconditionError", "UnimplementedError", "InternalError", "UnavailableError",
    "DataLossError", "UnauthenticatedError",
]
