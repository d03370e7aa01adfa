"""Exceptions: one class per gRPC status code that aadd answers with.

Every error of the server arrives as a subclass of :class:`Error` carrying
the gRPC code and the server's own message (which names what was wrong and
the value).  Input the client can check itself (NaN in a DataFrame, ragged
arrays, non-numeric columns) raises :class:`InvalidArgumentError` before
anything is sent.
"""

from __future__ import annotations

import grpc


class Error(Exception):
    """An aadd call failed.  ``code`` is the grpc.StatusCode, ``message`` the
    server's message (or the client's, for input caught before the wire)."""

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(self, message: str, code: grpc.StatusCode | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code.name}: {self.message}"


class CancelledError(Error):
    code = grpc.StatusCode.CANCELLED


class InvalidArgumentError(Error, ValueError):
    """Wrong feature count, NaN or Inf, empty or malformed input."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class DeadlineExceededError(Error, TimeoutError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class NotFoundError(Error, LookupError):
    """Unknown session or row id."""

    code = grpc.StatusCode.NOT_FOUND


class AlreadyExistsError(Error):
    """A session id that is taken; a batch id reused for other rows."""

    code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDeniedError(Error):
    code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhaustedError(Error):
    """A limit: sessions, rows, features, message size, disk."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPreconditionError(Error):
    """Scoring before a model exists, training twice at once."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class UnimplementedError(Error):
    code = grpc.StatusCode.UNIMPLEMENTED


class InternalError(Error):
    code = grpc.StatusCode.INTERNAL


class UnavailableError(Error):
    """The server is shutting down, unreachable, or its storage is failing."""

    code = grpc.StatusCode.UNAVAILABLE


class DataLossError(Error):
    """A corrupt or truncated session archive; corrupt server storage."""

    code = grpc.StatusCode.DATA_LOSS


class UnauthenticatedError(Error):
    """A missing or wrong token."""

    code = grpc.StatusCode.UNAUTHENTICATED


_BY_CODE = {
    cls.code: cls
    for cls in (CancelledError, InvalidArgumentError, DeadlineExceededError, NotFoundError,
                AlreadyExistsError, PermissionDeniedError, ResourceExhaustedError,
                FailedPreconditionError, UnimplementedError, InternalError, UnavailableError,
                DataLossError, UnauthenticatedError)
}


def error_for(code: grpc.StatusCode, message: str) -> Error:
    """The exception for ``code`` with ``message`` (Error for codes without a class)."""
    cls = _BY_CODE.get(code)
    if cls is None:
        return Error(message, code)
    return cls(message)


def from_rpc_error(e: grpc.RpcError) -> Error:
    """A grpc.RpcError (which is also a grpc.Call) as an aadd Error."""
    code = e.code() if hasattr(e, "code") else grpc.StatusCode.UNKNOWN
    details = e.details() if hasattr(e, "details") else str(e)
    return error_for(code, details or "")
