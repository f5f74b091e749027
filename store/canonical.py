"""The one canonical byte form of an event, and the per-stream hash chain.

    hash = sha256(previous_hash || canonical_bytes(event))

``canonical_bytes`` is UTF-8 JSON of an object holding every immutable field:
``stream_id``, ``version``, ``event_id`` (lower-case hyphenated UUID), ``type``,
``schema_version``, ``data``, ``metadata`` and ``recorded_at`` (UTC, ISO 8601
with microseconds and a ``Z``), with keys sorted at every depth, no
whitespace, non-ASCII characters kept as themselves. It is computed from
Python values, never from the bytes jsonb hands back (jsonb reorders keys).
Floats are refused in data and metadata: their text form is not stable
across JSON implementations; use strings or integers.

The first event of a stream chains to 32 zero bytes (``GENESIS``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

__all__ = ["GENESIS", "canonical_bytes", "chain_hash", "encode_document", "format_timestamp"]

GENESIS = bytes(32)

# The one JSON encoder of the canonical form (built once: json.dumps with
# options would build a new encoder for every event).
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def format_timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("recorded_at must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _no_floats(value: Any, path: str) -> None:
    if isinstance(value, float):
        raise ValueError(f"float at {path}: store numbers as integers or strings")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"non-string key at {path}")
            _no_floats(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _no_floats(item, f"{path}[{index}]")


def canonical_bytes(
    *,
    stream_id: str,
    version: int,
    event_id: UUID,
    type: str,
    schema_version: int,
    data: dict[str, Any],
    metadata: dict[str, Any],
    recorded_at: datetime,
) -> bytes:
    _no_floats(data, "data")
    _no_floats(metadata, "metadata")
    return encode_document(
        stream_id,
        version,
        str(event_id),
        type,
        schema_version,
        data,
        metadata,
        format_timestamp(recorded_at),
    )


def encode_document(
    stream_id: str,
    version: int,
    event_id: str,
    type: str,
    schema_version: int,
    data: dict[str, Any],
    metadata: dict[str, Any],
    recorded_at: str,
) -> bytes:
    """The canonical bytes from values already in their canonical text
    (``event_id`` lower-case hyphenated, ``recorded_at`` from
    ``format_timestamp``), without the float check: the fast path of
    ``audit verify``, which recomputes stored rows (a float in a stored row
    cannot have been hashed by ``canonical_bytes``, so its hash will differ)."""
    document = {
        "stream_id": stream_id,
        "version": version,
        "event_id": event_id,
        "type": type,
        "schema_version": schema_version,
        "data": data,
        "metadata": metadata,
        "recorded_at": recorded_at,
    }
    return _ENCODER.encode(document).encode("utf-8")


def chain_hash(previous_hash: bytes, canonical: bytes) -> bytes:
    return hashlib.sha256(previous_hash + canonical).digest()
