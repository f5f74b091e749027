"""Reading the log for projections: up to a checkpoint, stream by stream.

``bound`` is a checkpoint; only events at or before it, in (tx_id, position)
order, are read. Every event at or before a checkpoint that a subscriber
reached has committed (``store.reading``), so these reads are stable.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import pairwise
from typing import Any, NamedTuple

import psycopg
from sqlalchemy import Connection

from domain.events import EVENT_TYPES, event_from_json_text
from store.projections.archive_fold import ArchiveEventRow
from store.reading import Checkpoint

__all__ = [
    "Span",
    "StreamEvent",
    "case_events",
    "domain_records",
    "head",
    "read_streams",
    "scan_span",
    "scan_streams",
    "stream_spans",
]

# A range of stream ids (after, up to]; None: unbounded on that side.
Span = tuple[str | None, str | None]


class StreamEvent(NamedTuple):  # not a frozen dataclass: a build makes one per event
    stream_id: str
    version: int
    event_id: str
    type: str
    schema_version: int
    data: str  # the stored JSON as text: parsed once, straight into the event's model


_COLUMNS = "stream_id, version, event_id::text, type, schema_version, data::text"
_BOUND = "(tx_id, position) <= (%s::text::xid8, %s)"

_HEAD = (
    "SELECT tx_id::text::bigint, position FROM events "
    "WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot()) "
    "ORDER BY events.tx_id DESC, events.position DESC LIMIT 1"
)


def _driver(conn: Connection | psycopg.Connection[Any]) -> Any:
    if isinstance(conn, psycopg.Connection):
        return conn
    driver = conn.connection.driver_connection
    assert driver is not None
    return driver


def head(conn: Connection) -> Checkpoint:
    """The last event a subscriber can read now (START when there is none)."""
    row = _driver(conn).execute(_HEAD).fetchone()
    return Checkpoint.START if row is None else Checkpoint(int(row[0]), int(row[1]))


def read_streams(
    conn: Connection, stream_ids: Sequence[str], bound: Checkpoint
) -> dict[str, list[StreamEvent]]:
    """The events of ``stream_ids`` at or before ``bound``, each stream in version order."""
    found: dict[str, list[StreamEvent]] = {s: [] for s in sorted(set(stream_ids))}
    if not found:
        return found
    sql = (
        f"SELECT {_COLUMNS} FROM events WHERE stream_id = ANY(%s) AND {_BOUND} "  # noqa: S608
        "ORDER BY stream_id, version"
    )
    with _driver(conn).cursor() as cursor:
        cursor.execute(sql, (list(found), str(bound.tx_id), bound.position))
        for row in cursor:
            found[row[0]].append(StreamEvent(*row))
    return found


def scan_streams(
    conn: Connection | psycopg.Connection[Any],
    bound: Checkpoint,
    *,
    where: str = "",
    params: Sequence[Any] = (),
) -> Iterator[list[StreamEvent]]:
    """Every stream at or before ``bound`` (optionally filtered), one list per stream,
    in stream id order, through a server-side cursor: memory holds one stream."""
    sql = (
        f"SELECT {_COLUMNS} FROM events WHERE {_BOUND} {where} "  # noqa: S608
        "ORDER BY stream_id, version"
    )
    driver = _driver(conn)
    with driver.cursor(name="projection_scan") as cursor:
        cursor.itersize = 5000
        cursor.execute(sql, (str(bound.tx_id), bound.position, *params))
        current: list[StreamEvent] = []
        for row in cursor:
            event = StreamEvent(*row)
            if current and current[0].stream_id != event.stream_id:
                yield current
                current = []
            current.append(event)
        if current:
            yield current


def stream_spans(conn: Connection, size: int) -> list[Span]:
    """Every stream id, cut into consecutive spans of about ``size`` streams, in order."""
    cuts = [
        row[0]
        for row in _driver(conn).execute(
            "SELECT stream_id FROM (SELECT stream_id, row_number() OVER (ORDER BY stream_id) AS n "
            "FROM streams) s WHERE n %% %s = 0 ORDER BY stream_id",
            (size,),
        )
    ]
    edges: list[str | None] = [None, *cuts, None]
    return list(pairwise(edges))


def scan_span(
    conn: Connection | psycopg.Connection[Any], bound: Checkpoint, span: Span
) -> Iterator[list[StreamEvent]]:
    """``scan_streams`` of the streams in ``span``."""
    after, upto = span
    where, params = "", list[str]()
    if after is not None:
        where, params = f"{where} AND stream_id > %s", [*params, after]
    if upto is not None:
        where, params = f"{where} AND stream_id <= %s", [*params, upto]
    return scan_streams(conn, bound, where=where, params=params)


def case_events(events: Sequence[StreamEvent]) -> list[StreamEvent]:
    """The case events of one stream, unparsed; [] for a stream that is not a case (it
    does not start with a finding), and events of unknown types (other stream kinds)
    are left out."""
    known = [e for e in events if e.type in EVENT_TYPES]
    if not known or known[0].type != "FindingRecorded":
        return []
    return known


def domain_records(events: Sequence[StreamEvent]) -> list[ArchiveEventRow]:
    """The case events of one stream (``case_events``) as the folds read them."""
    known = case_events(events)
    return [
        ArchiveEventRow(
            e.event_id, e.stream_id, event_from_json_text(e.type, e.schema_version, e.data)
        )
        for e in known
    ]
