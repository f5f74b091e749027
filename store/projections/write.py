"""Writing a projection's rows: COPY, the cheapest way into PostgreSQL for a build's
many rows, and as good as an INSERT for a batch's few.

A build worker can encode its rows itself (``binary_rows``: COPY's binary format),
so the build process, which writes every row in its transaction, only passes the
bytes on (``copy_binary``): no pickling of the rows' strings between processes
and no per-row encoding in the one process every row goes through.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection

__all__ = ["binary_rows", "copy_binary", "copy_rows", "copy_text", "text_rows"]


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


# COPY's text format: a backslash, tab, newline or carriage return inside a value is
# escaped (so ``\N``, the null, and ``\.``, the end, never come from a value).
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
# An array element, always quoted: a backslash or a double quote is escaped.
_ELEMENT_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"'})


_ESCAPED = re.compile(r"[\\\t\n\r]")


def _escaped(text: str) -> str:
    return text if _ESCAPED.search(text) is None else text.translate(_COPY_ESCAPES)


def _timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("a timestamptz needs an aware datetime")
    return value.isoformat()


def _array(value: Sequence[Any]) -> str:
    if not all(isinstance(v, str) for v in value):
        raise TypeError("only arrays of text have a COPY text form here")
    elements = ",".join(f'"{v.translate(_ELEMENT_ESCAPES)}"' for v in value)
    return _escaped(f"{{{elements}}}")


def _null(_: None) -> str:
    return "\\N"


def _boolean(value: bool) -> str:
    return "t" if value else "f"


def _date(value: date) -> str:
    return value.isoformat()


# Each type's text form, found by one lookup of the value's exact type (a build encodes
# a few hundred thousand values); subclasses (an enum of str) by ``isinstance``.
_FORMS: dict[type, Callable[[Any], str]] = {
    str: _escaped,
    type(None): _null,
    bool: _boolean,
    int: str,
    datetime: _timestamp,
    date: _date,
    tuple: _array,
    list: _array,
}


def _text_field(value: Any) -> str:
    form = _FORMS.get(type(value))
    if form is not None:
        return form(value)
    # Subclasses: an enum's value (``str(member)`` of a ``(str, Enum)`` is its name).
    if isinstance(value, str):
        return _escaped(str.__str__(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__repr__(value)
    for kind in (datetime, date, tuple, list):
        if isinstance(value, kind):
            return _FORMS[kind](value)
    raise TypeError(f"no COPY text form for {type(value).__name__}")


def text_rows(rows: Iterable[Sequence[Any]]) -> bytes:
    """The rows in COPY's text format (one line each), for a worker to encode what the
    build process writes with ``copy_text``; values of type str, int, bool, date,
    aware datetime, None, or a list or tuple of str (a text array)."""
    return "".join("\t".join(map(_text_field, row)) + "\n" for row in rows).encode()


def copy_text(conn: Connection, table: str, columns: Sequence[str], data: bytes) -> None:
    """Append the rows ``text_rows`` encoded to ``table`` in the connection's transaction."""
    if not data:
        return
    driver = conn.connection.driver_connection
    assert driver is not None
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(sql) as copy:
        copy.write(data)
