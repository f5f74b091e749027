"""The one canonical byte form of an event, and the per-stream hash chain.

    hash = sha256(previous_hash || canonical_bytes(event))

The database computes both: ``event_canonical`` (migration 0007) when it
appends and when ``audit verify`` recomputes the log. This module is the
definition, for tests and for anyone who checks an exported log outside the
system. The canonical bytes are the UTF-8 of::

    {"stream_id": S, "version": V, "event_id": "U", "type": T, "schema_version": N,
     "recorded_at": "R", "data": D, "metadata": M}

exactly so spaced, with the keys in this order, where

- ``S`` and ``T`` are JSON strings escaped as PostgreSQL escapes them: ``\\"``,
  ``\\\\``, ``\\b``, ``\\f``, ``\\n``, ``\\r``, ``\\t``, any other character below
  U+0020 as ``\\u00xx`` (lower-case hex), everything else as itself;
- ``V`` and ``N`` are decimal integers, ``U`` the lower-case hyphenated UUID;
- ``R`` is the UTC time with microseconds: ``2026-11-21T09:30:00.000000Z``;
- ``D`` and ``M`` are JSON with object keys ordered by their length in UTF-8
  bytes, then bytewise; ``", "`` between
  members and ``": "`` after keys; strings escaped as above; numbers in plain
  decimal notation keeping the digits they were written with (``1e-07``
  becomes ``0.0000001``, ``1.50`` stays ``1.50``, ``-0.0`` becomes ``0.0``).

The form is defined here, in code, and does not depend on any database: an
inspector re-hashes an exported log with this module alone. The rules for
``D`` and ``M`` were chosen to be exactly the text PostgreSQL's ``jsonb``
output produces, so the database can compute the form at C speed from the
columns it stores (``event_canonical``), hash what it stores, and let
``audit verify`` recheck a million events in seconds. A hypothesis test
(tests/integration/store/test_canonical_form.py) checks on every CI run that
the two agree for any JSON the store accepts; a PostgreSQL upgrade that
changed its ``jsonb`` output would fail that test before it could reach a log.

The first event of a stream chains to 32 zero bytes (``GENESIS``).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

__all__ = ["GENESIS", "canonical_bytes", "chain_hash", "format_timestamp", "jsonb_text"]

GENESIS = bytes(32)

_ESCAPES = {
    ord("\b"): "\\b",
    ord("\f"): "\\f",
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
    ord('"'): '\\"',
    ord("\\"): "\\\\",
}
_ESCAPES.update({code: f"\\u{code:04x}" for code in range(0x20) if code not in _ESCAPES})


def format_timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("recorded_at must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _string(value: str) -> str:
    return '"' + value.translate(_ESCAPES) + '"'


def _number(value: int | float | Decimal) -> str:
    if isinstance(value, int):
        return str(value)
    # What PostgreSQL's numeric prints for the decimal text JSON carries.
    number = Decimal(repr(value)) if isinstance(value, float) else value
    if not number.is_finite():
        raise ValueError(f"{value!r} has no JSON form")
    return format(number.copy_abs() if number.is_zero() else number, "f")


def _key_order(item: tuple[str, Any]) -> tuple[int, bytes]:
    raw = item[0].encode("utf-8")
    return len(raw), raw


def jsonb_text(value: Any) -> str:
    """The text PostgreSQL's ``jsonb`` output gives ``value`` (see above)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int | float | Decimal):
        return _number(value)
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise ValueError(f"JSON object keys must be strings, not {key!r}")
        members = sorted(value.items(), key=_key_order)
        return "{" + ", ".join(f"{_string(k)}: {jsonb_text(v)}" for k, v in members) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(jsonb_text(item) for item in value) + "]"
    raise ValueError(f"{type(value).__name__} has no JSON form")


def canonical_bytes(
    *,
    stream_id: str,
    version: int,
    event_id: UUID,
    type: str,
    schema_version: int,
    recorded_at: datetime,
    data: dict[str, Any],
    metadata: dict[str, Any],
) -> bytes:
    text = (
        f'{{"stream_id": {_string(stream_id)}, "version": {version}, '
        f'"event_id": "{event_id}", "type": {_string(type)}, '
        f'"schema_version": {schema_version}, "recorded_at": "{format_timestamp(recorded_at)}", '
        f'"data": {jsonb_text(data)}, "metadata": {jsonb_text(metadata)}}}'
    )
    return text.encode("utf-8")


def chain_hash(previous_hash: bytes, canonical: bytes) -> bytes:
    return hashlib.sha256(previous_hash + canonical).digest()
