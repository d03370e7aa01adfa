"""What the client needs of the wire besides the generated stubs: the
proto's enum short names, packed float fields written straight from numpy,
and the session archive's self-check."""

from __future__ import annotations

import struct
import zlib

import numpy as np

from ._errors import DataLossError, FailedPreconditionError, InvalidArgumentError
from ._proto import aad_pb2


# --- enum short names: QUERY_STRATEGY_DIVERSE is "diverse" -----------------

def _prefix(enum_type) -> str:
    for value in enum_type.DESCRIPTOR.values:
        if value.name.endswith("_UNSPECIFIED"):
            return value.name[: -len("UNSPECIFIED")]
    return ""


def enum_name(enum_type, number: int) -> str:
    """The lower-case value name after the enum's prefix (the aadctl rule);
    "unknown(N)" for a value the enum does not define."""
    value = enum_type.DESCRIPTOR.values_by_number.get(number)
    if value is None:
        return f"unknown({number})"
    return value.name[len(_prefix(enum_type)):].lower()


def enum_value(enum_type, name, what: str) -> int:
    """The value whose short name (or full name, or number) is ``name``."""
    if name is None:
        return 0
    if isinstance(name, (int, np.integer)) and not isinstance(name, bool):
        if int(name) in enum_type.DESCRIPTOR.values_by_number:
            return int(name)
    elif isinstance(name, str):
        prefix = _prefix(enum_type)
        for value in enum_type.DESCRIPTOR.values:
            if value.name.endswith("_UNSPECIFIED"):
                continue
            if name.lower() == value.name[len(prefix):].lower() or name == value.name:
                return value.number
    known = [v.name[len(_prefix(enum_type)):].lower() for v in enum_type.DESCRIPTOR.values
             if not v.name.endswith("_UNSPECIFIED")]
    raise InvalidArgumentError(f"{what} {name!r} is not one of {', '.join(known)}")


# --- packed floats ----------------------------------------------------------

def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def packed_floats(field_number: int, values: np.ndarray) -> bytes:
    """A packed `repeated float` field (wire type 2), straight from the
    array's bytes: protobuf parsers take fields in any order, so this can be
    appended to a message serialised without them.  Saves a Python-level
    copy per float on ingest."""
    payload = np.ascontiguousarray(values, dtype="<f4").tobytes()
    if not payload:
        return b""
    return _varint((field_number << 3) | 2) + _varint(len(payload)) + payload


# Field numbers of the packed values (aad.proto).
INGEST_VALUES_FIELD = aad_pb2.IngestRequest.DESCRIPTOR.fields_by_name["values"].number
SCORE_VALUES_FIELD = aad_pb2.ScoreRequest.DESCRIPTOR.fields_by_name["values"].number


def floats(repeated, shape=None) -> np.ndarray:
    """A repeated float field as a float32 array."""
    arr = np.fromiter(repeated, dtype=np.float32, count=len(repeated))
    return arr.reshape(shape) if shape is not None else arr


# --- session archives --------------------------------------------------------
#   "AADDSESS" | u32 format version | u64 payload length | payload | u32 CRC-32
# (format/session_archive.h); the payload starts with the session id as a u64
# length and its bytes.

ARCHIVE_MAGIC = b"AADDSESS"
ARCHIVE_VERSION = 2
_HEADER = len(ARCHIVE_MAGIC) + 4 + 8
_TRAILER = 4


def check_archive(data: bytes, source: str) -> str:
    """Checks an archive's header, length and checksum, as aadctl does
    before it writes or uploads one, and returns the session id stored in
    it.  DataLossError naming ``source`` for a damaged or truncated archive;
    FailedPreconditionError for a newer format than this client knows."""

    def loss(why: str) -> DataLossError:
        return DataLossError(f"{source}: not a valid session archive: {why}")

    if len(data) < _HEADER + _TRAILER or data[: len(ARCHIVE_MAGIC)] != ARCHIVE_MAGIC:
        raise loss(f"missing the 'AADDSESS' header ({len(data)} bytes)")
    version, length = struct.unpack_from("<IQ", data, len(ARCHIVE_MAGIC))
    if version == 0:
        raise loss("format version 0")
    if version > ARCHIVE_VERSION:
        raise FailedPreconditionError(
            f"{source}: session archive format version {version} is newer than this client "
            f"reads ({ARCHIVE_VERSION})")
    held = len(data) - _HEADER - _TRAILER
    if length != held:
        raise loss(f"the header gives {length} payload bytes, the file holds {held} (truncated?)")
    body = memoryview(data)[_HEADER:_HEADER + length]
    (stored,) = struct.unpack_from("<I", data, _HEADER + length)
    computed = zlib.crc32(body) & 0xFFFFFFFF
    if stored != computed:
        raise loss(f"checksum mismatch (stored {stored}, computed {computed})")
    if length < 8:
        raise loss("no session id")
    (id_length,) = struct.unpack_from("<Q", body, 0)
    if id_length > length - 8:
        raise loss(f"a session id of {id_length} bytes")
    return bytes(body[8:8 + id_length]).decode("utf-8", errors="replace")
