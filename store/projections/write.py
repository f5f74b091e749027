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
from datetime import UTC, date, datetime
from typing import Any

import psycopg
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


_INT4 = struct.Struct("!ii")
_INT4_RANGE = range(-(2**31), 2**31)
_TRUE, _FALSE = _LENGTH.pack(1) + b"\x01", _LENGTH.pack(1) + b"\x00"
_ARRAY_HEADER = struct.Struct("!iiiiii")  # length, dimensions, has nulls, type, size, lower bound
_EMPTY_TEXT_ARRAY = struct.pack("!iiii", 12, 0, 0, 25)
_TEXT_OID = 25
_PG_EPOCH_DAY = date(2000, 1, 1).toordinal()


def _text(value: str) -> bytes:
    data = str.__str__(value).encode()  # an enum of str: its value
    return _LENGTH.pack(len(data)) + data


def _field(value: Any) -> bytes:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, datetime):
        # timestamptz: microseconds since 2000-01-01 UTC (the column's binary form).
        if value.tzinfo is None:
            raise ValueError("a timestamptz needs an aware datetime")
        delta = value - _PG_EPOCH
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return _TIMESTAMP.pack(8, micros)
    if value is None:
        return _NULL
    if isinstance(value, bool):
        return _TRUE if value else _FALSE
    if isinstance(value, int):  # integer columns: int4
        if value not in _INT4_RANGE:
            raise ValueError(f"{value} does not fit an integer column")
        return _INT4.pack(4, int.__int__(value))
    if isinstance(value, date):  # days since 2000-01-01
        return _INT4.pack(4, value.toordinal() - _PG_EPOCH_DAY)
    if isinstance(value, tuple | list):
        return _text_array(value)
    raise TypeError(f"no binary COPY form for {type(value).__name__}")


def _text_array(values: Sequence[Any]) -> bytes:
    """A one-dimensional text[] without nulls."""
    if not all(isinstance(v, str) for v in values):
        raise TypeError("only arrays of text have a binary COPY form here")
    if not values:
        return _EMPTY_TEXT_ARRAY
    elements = b"".join(_text(v) for v in values)
    header = _ARRAY_HEADER.pack(20 + len(elements), 1, 0, _TEXT_OID, len(values), 1)
    return header + elements


def binary_rows(rows: Iterable[Sequence[Any]]) -> bytes:
    """The rows in COPY's binary format, without its header and trailer (``copy_binary``
    adds them). A value's Python type gives its column's type: str (or an enum of str)
    text, aware datetime timestamptz, date date, bool boolean, int integer (int4), a
    list or tuple of str text[], None null."""
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


def copy_binary(
    conn: Connection | psycopg.Connection[Any], table: str, columns: Sequence[str], data: bytes
) -> None:
    """Append the rows ``binary_rows`` encoded to ``table`` in the connection's
    transaction (a build's, or a build worker's own)."""
    if not data:
        return
    driver = conn if isinstance(conn, psycopg.Connection) else conn.connection.driver_connection
    assert driver is not None
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    with driver.cursor() as cursor, cursor.copy(sql) as copy:
        copy.write(_HEADER)
        copy.write(data)
        copy.write(_TRAILER)
