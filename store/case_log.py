"""Every event of every stream of one type, stream by stream, in stream order.

A full scan: the cadre archive reads it this way until its projection exists.
Streams out of the server in batches, so memory stays flat.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, text

__all__ = ["StoredEventData", "iter_events_of_type"]

StoredEventData = tuple[str, str, str, int, dict[str, Any]]  # event id, stream, type, schema, data


def iter_events_of_type(engine: Engine, stream_type: str) -> Iterator[StoredEventData]:
    with engine.connect() as conn:
        rows = conn.execution_options(yield_per=2000).execute(
            text(
                "SELECT e.event_id::text, e.stream_id, e.type, e.schema_version, e.data "
                "FROM events e JOIN streams s USING (stream_id) "
                "WHERE s.type = :type ORDER BY e.stream_id, e.version"
            ),
            {"type": stream_type},
        )
        for row in rows:
            yield row[0], row[1], row[2], int(row[3]), row[4]
