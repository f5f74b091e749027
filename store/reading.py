"""Reading the log in commit-safe order.

Subscribers read in ``(tx_id, position)`` order and only events whose
transaction id is below ``pg_snapshot_xmin(pg_current_snapshot())``: every
transaction below that bound has finished, so no event can later appear
before the reader's checkpoint. A transaction that stays open holds readers
back (all of them, cluster-wide) until it ends; then its events and the ones
committed after it are read, in order, each once.

Rows are fetched with the driver's cursor and turned straight into
``RecordedEvent``: this is the hot path of every projection and of the
benchmark.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import Connection

from store.records import RecordedEvent
from store.upcasting import Upcasters

__all__ = ["COLUMNS", "Checkpoint", "fetch_events", "read_all", "read_stream", "read_streams"]

# In the field order of RecordedEvent, so a row builds it positionally. The
# output column ``tx_id`` is a bigint: ORDER BY must name ``events.tx_id`` (the
# xid8 column) to follow the (tx_id, position) index instead of sorting.
COLUMNS = (
    "position, tx_id::text::bigint, stream_id, version, event_id, type, schema_version, "
    "data, metadata, recorded_at, previous_hash, hash"
)

READ_ALL = (
    f"SELECT {COLUMNS} FROM events "  # noqa: S608 - constant text
    "WHERE (tx_id, position) > (%s::text::xid8, %s) "
    "AND tx_id < pg_snapshot_xmin(pg_current_snapshot()) "
    "ORDER BY events.tx_id, events.position LIMIT %s"
)

READ_STREAM = (
    f"SELECT {COLUMNS} FROM events "  # noqa: S608 - constant text
    "WHERE stream_id = %s AND version >= %s ORDER BY version"
)


@dataclass(frozen=True, slots=True, order=True)
class Checkpoint:
    """Where a reader stands: after the event at (tx_id, position)."""

    tx_id: int
    position: int

    START: ClassVar[Checkpoint]

    @classmethod
    def after(cls, event: RecordedEvent) -> Checkpoint:
        return cls(event.tx_id, event.position)


Checkpoint.START = Checkpoint(0, 0)


def _row_factory(cursor: Any) -> Callable[[Sequence[Any]], RecordedEvent]:
    return lambda values: RecordedEvent(*values)


def fetch_events(
    conn: Connection,
    sql: str,
    params: Sequence[Any],
    upcasters: Upcasters | None = None,
) -> list[RecordedEvent]:
    """Run ``sql`` (selecting ``COLUMNS``) on the connection's driver cursor."""
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor(row_factory=_row_factory) as cursor:
        cursor.execute(sql, params)
        found: list[RecordedEvent] = cursor.fetchall()
    if upcasters:
        found = [upcasters.upcast(event) for event in found]
    return found


def read_all(
    conn: Connection,
    after: Checkpoint | None = None,
    limit: int = 1000,
    upcasters: Upcasters | None = None,
) -> list[RecordedEvent]:
    """Up to ``limit`` events after ``after``, in (tx_id, position) order,
    only from transactions that have all finished."""
    if limit < 1:
        raise ValueError("limit must be >= 1")
    start = after or Checkpoint.START
    return fetch_events(conn, READ_ALL, (str(start.tx_id), start.position, limit), upcasters)


def read_stream(
    conn: Connection, stream_id: str, from_version: int = 1, upcasters: Upcasters | None = None
) -> list[RecordedEvent]:
    return fetch_events(conn, READ_STREAM, (stream_id, from_version), upcasters)


# Stream by stream through the primary key, whatever the planner's statistics say: the
# ORDER BY keeps the subquery a loop over the streams (on ``stream_id = ANY(…)``, or a
# join, an events table not yet analysed was read whole).
READ_STREAMS = (
    "SELECT e.* FROM unnest(%s::text[]) AS s(id) CROSS JOIN LATERAL ("  # noqa: S608
    f"SELECT {COLUMNS} FROM events WHERE stream_id = s.id ORDER BY version) e "
    "ORDER BY e.stream_id, e.version"
)


def read_streams(
    conn: Connection, stream_ids: Sequence[str], upcasters: Upcasters | None = None
) -> dict[str, list[RecordedEvent]]:
    """Each stream's events in version order, read in one statement (a stream without
    events is absent)."""
    found: dict[str, list[RecordedEvent]] = {}
    for event in fetch_events(conn, READ_STREAMS, (list(stream_ids),), upcasters):
        found.setdefault(event.stream_id, []).append(event)
    return found
