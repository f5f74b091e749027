"""Append to and read from the event log.

An append runs in one transaction and locks only its own stream's row. It is
idempotent: appending events whose ids already sit in that stream at those
versions, with the same content, returns the first result and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, insert, select, text

from store.canonical import GENESIS, canonical_bytes, chain_hash
from store.errors import ConcurrencyError, IdempotencyConflict
from store.records import AppendResult, NewEvent, RecordedEvent
from store.tables import events, streams

__all__ = ["EventStore"]


def _now() -> datetime:
    return datetime.now(UTC)


class EventStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(
        self,
        stream_id: str,
        expected_version: int,
        new_events: Sequence[NewEvent],
        *,
        stream_type: str = "case",
    ) -> AppendResult:
        if not new_events:
            raise ValueError("append needs at least one event")
        if expected_version < 0:
            raise ValueError("expected_version must be >= 0")
        with self.engine.begin() as conn:
            repeat = self._find_repeat(conn, stream_id, expected_version, new_events)
            if repeat is not None:
                return repeat
            head = self._lock_stream(conn, stream_id, expected_version, stream_type)
            recorded_at = _now()
            rows: list[dict[str, Any]] = []
            previous = head
            for offset, event in enumerate(new_events, start=1):
                version = expected_version + offset
                digest = chain_hash(
                    previous,
                    canonical_bytes(
                        stream_id=stream_id,
                        version=version,
                        event_id=event.event_id,
                        type=event.type,
                        schema_version=event.schema_version,
                        data=event.data,
                        metadata=event.metadata,
                        recorded_at=recorded_at,
                    ),
                )
                rows.append(
                    {
                        "stream_id": stream_id,
                        "version": version,
                        "event_id": event.event_id,
                        "type": event.type,
                        "schema_version": event.schema_version,
                        "data": event.data,
                        "metadata": event.metadata,
                        "recorded_at": recorded_at,
                        "previous_hash": previous,
                        "hash": digest,
                    }
                )
                previous = digest
            conn.execute(insert(events), rows)
            last = expected_version + len(new_events)
            conn.execute(
                streams.update()
                .where(streams.c.stream_id == stream_id)
                .values(version=last, head_hash=previous)
            )
        return AppendResult(stream_id, expected_version + 1, last, previous)

    def _lock_stream(
        self, conn: Connection, stream_id: str, expected: int, stream_type: str
    ) -> bytes:
        if expected == 0:
            created = conn.execute(
                text(
                    "INSERT INTO streams (stream_id, type, version, head_hash) "
                    "VALUES (:id, :type, 0, :genesis) ON CONFLICT DO NOTHING RETURNING 1"
                ),
                {"id": stream_id, "type": stream_type, "genesis": GENESIS},
            ).first()
            if created is not None:
                return GENESIS
        row = conn.execute(
            select(streams.c.version, streams.c.head_hash)
            .where(streams.c.stream_id == stream_id)
            .with_for_update()
        ).first()
        actual = 0 if row is None else int(row.version)
        if row is None or actual != expected:
            raise ConcurrencyError(stream_id, expected, actual)
        return bytes(row.head_hash)

    def _find_repeat(
        self,
        conn: Connection,
        stream_id: str,
        expected: int,
        new_events: Sequence[NewEvent],
    ) -> AppendResult | None:
        ids = [event.event_id for event in new_events]
        stored = {
            row.event_id: row
            for row in conn.execute(select(events).where(events.c.event_id.in_(ids))).mappings()
        }
        if not stored:
            return None
        for offset, event in enumerate(new_events, start=1):
            row = stored.get(event.event_id)
            if row is None:
                raise IdempotencyConflict(
                    stream_id, str(event.event_id), "part of this batch is stored, part is not"
                )
            _check_same(stream_id, expected + offset, event, row)
        last = stored[ids[-1]]
        return AppendResult(
            stream_id, expected + 1, expected + len(ids), bytes(last.hash), already_stored=True
        )

    def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(events)
                .where(events.c.stream_id == stream_id, events.c.version >= from_version)
                .order_by(events.c.version)
            ).mappings()
            return [_recorded(row) for row in rows]

    def stream_version(self, stream_id: str) -> int:
        with self.engine.connect() as conn:
            version = conn.execute(
                select(streams.c.version).where(streams.c.stream_id == stream_id)
            ).scalar()
        return int(version or 0)


def _check_same(stream_id: str, version: int, event: NewEvent, row: RowMapping) -> None:
    differences = [
        name
        for name, ours, theirs in (
            ("stream", stream_id, row.stream_id),
            ("version", version, row.version),
            ("type", event.type, row.type),
            ("schema_version", event.schema_version, row.schema_version),
            ("data", event.data, row.data),
            ("metadata", event.metadata, row.metadata),
        )
        if ours != theirs
    ]
    if differences:
        raise IdempotencyConflict(
            stream_id,
            str(event.event_id),
            "already stored with a different " + ", ".join(differences),
        )


def _recorded(row: RowMapping) -> RecordedEvent:
    return RecordedEvent(
        position=int(row.position),
        tx_id=int(row.tx_id),
        stream_id=row.stream_id,
        version=int(row.version),
        event_id=row.event_id,
        type=row.type,
        schema_version=int(row.schema_version),
        data=row.data,
        metadata=row.metadata,
        recorded_at=row.recorded_at,
        previous_hash=bytes(row.previous_hash),
        hash=bytes(row.hash),
    )
