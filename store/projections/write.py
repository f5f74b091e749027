"""Writing a projection's rows: COPY, the cheapest way into PostgreSQL for a build's
many rows, and as good as an INSERT for a batch's few.

A build worker can encode its rows itself (``binary_rows``: COPY's binary format),
so the build process, which writes every row in its transaction, only passes the
bytes on (``copy_binary``): no pickling of the rows' strings between processes
and no per-row encoding in the one process every row goes through.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

__all__ = ["binary_rows", "copy_binary", "copy_rows"]


def copy_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Append ``rows`` (tuples in ``columns`` order) to ``table`` in the connection's
    transaction."""
    driver = conn.connection.driver_connection
    assert driver is not None
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_TRAILER = struct.pack("!h", -1)
_NULL = struct.pack("!i", -1)
_TIMESTAMP = struct.Struct("!iq")
_LENGTH = struct.Struct("!i")
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_NOTHING = object()


def _field(value: Any) -> bytes:
    if isinstance(value, str):
        data = value.encode()
        return _LENGTH.pack(len(data)) + data
    if isinstance(value, datetime):
        # timestamptz: microseconds since 2000-01-01 UTC (the column's binary form).
        if value.tzinfo is None:
            raise ValueError("a timestamptz needs an aware datetime")
        delta = value - _PG_EPOCH
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return _TIMESTAMP.pack(8, micros)
    if value is None:
        return _NULL
    raise TypeError(f"no binary COPY form for {type(value).__name__}")


def binary_rows(rows: Iterable[Sequence[str | datetime | None]]) -> bytes:
    """The rows in COPY's binary format, without its header and trailer (``copy_binary``
    adds them); columns of type text or timestamptz only."""
    parts: list[bytes] = []
    add = parts.append
    last: Any = _NOTHING  # the last other value and its form: rows often share one
    form = b""
    for row in rows:
        add(len(row).to_bytes(2, "big"))
        for value in row:
            if type(value) is str:  # most values, so handled here
                data = value.encode()
                add(len(data).to_bytes(4, "big"))
                add(data)
            else:
                if value is not last:
                    last, form = value, _field(value)
                add(form)
    return b"".join(parts)


def copy_binary(conn: Connection, table: str, columns: Sequence[str], data: bytes) -> None:
    """Append the rows ``binary_rows`` encoded to ``table`` in the connection's
    transaction."""
    if not data:
        return
    driver = conn.connection.driver_connection
    assert driver is not None
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    with driver.cursor() as cursor, cursor.copy(sql) as copy:
        copy.write(_HEADER)
        copy.write(data)
        copy.write(_TRAILER)
