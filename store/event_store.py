"""Append to and read from the event log.

An append is one statement (``append_events``, migration 0007) in one
transaction and locks only its own stream's row; many streams append in
parallel from many connections. A stream is created by its first append
(expected version 0). It is idempotent: appending events whose ids already
sit in that stream at those versions, with the same content, returns the
first result and writes nothing; the same id with other content raises
``IdempotencyConflict``.

Pass ``conn=`` to append inside a transaction you hold (a projection, or a
test that keeps it open); otherwise each append commits on its own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row
from sqlalchemy import Connection, Engine, select

from store.append_connections import AppendConnections, Driver
from store.errors import ConcurrencyError, IdempotencyConflict, StaleTransaction
from store.notify import notifier_for
from store.reading import Checkpoint
from store.reading import read_all as _read_all
from store.reading import read_stream as _read_stream
from store.reading import read_streams as _read_streams
from store.records import AppendResult, NewEvent, RecordedEvent
from store.tables import streams
from store.upcasting import Upcasters

__all__ = ["EventStore"]

APPEND = "SELECT status, version, head_hash FROM append_events(%s, %s, %s, %s::jsonb, %s)"

# The events travel as one JSON array; the server parses it once, stamps
# recorded_at, computes the canonical form and the hashes (store.canonical).
_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode


def _events_json(new_events: Sequence[NewEvent]) -> str:
    try:
        return _ENCODE(
            [
                {
                    "event_id": str(event.event_id),
                    "type": event.type,
                    "schema_version": event.schema_version,
                    "data": event.data,
                    "metadata": event.metadata,
                }
                for event in new_events
            ]
        )
    except (TypeError, ValueError) as exc:  # a date, a set, NaN …: say so before writing
        raise ValueError(f"event data must be plain JSON: {exc}") from exc


class EventStore:
    def __init__(
        self, engine: Engine, *, upcasters: Upcasters | None = None, notify: bool = True
    ) -> None:
        self.engine = engine
        self.upcasters = upcasters
        self.notify = notify  # wake subscribers after each append (see store.notify)
        self._connections = AppendConnections(engine)

    def close(self) -> None:
        """Close the append connections now rather than when the store is collected."""
        self._connections.close()

    def append(
        self,
        stream_id: str,
        expected_version: int,
        new_events: Sequence[NewEvent],
        *,
        stream_type: str = "case",
        conn: Connection | None = None,
    ) -> AppendResult:
        if not new_events:
            raise ValueError("append needs at least one event")
        if expected_version < 0:
            raise ValueError("expected_version must be >= 0")
        documents = _events_json(new_events)
        try:
            if conn is not None:
                # The caller commits: NOTIFY inside its transaction, sent at its commit.
                params = (stream_id, stream_type, expected_version, documents, self.notify)
                driver = conn.connection.driver_connection
                assert driver is not None
                return self._append(driver, params, new_events)
            # The append is one statement, hence its own transaction: autocommit
            # saves the BEGIN and COMMIT round trips. Subscribers are woken after
            # the commit, outside it (NOTIFY at commit would be a global lock).
            params = (stream_id, stream_type, expected_version, documents, False)
            result = self._connections.run(lambda own: self._append(own, params, new_events))
            if self.notify and not result.already_stored:
                notifier_for(self.engine).poke()
            return result
        except psycopg.errors.UntranslatableCharacter as exc:  # \u0000 in a jsonb string
            raise ValueError(f"event data must not contain NUL (U+0000): {exc}") from exc
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name != "events_event_id_key":
                raise
            detail = exc.diag.message_detail or ""
            raise IdempotencyConflict(
                stream_id,
                detail.removeprefix("Key (event_id)=(").split(")", 1)[0] or "?",
                "this event id is already stored in another stream or at another version",
            ) from exc

    def _append(
        self, driver: Driver, params: tuple[Any, ...], new_events: Sequence[NewEvent]
    ) -> AppendResult:
        stream_id: str = params[0]
        expected: int = params[2]
        row = driver.execute(APPEND, params).fetchone()
        assert row is not None
        status, version, head = row
        if status == "ok":
            return AppendResult(stream_id, expected + 1, int(version), bytes(head))
        if status == "stale":
            raise StaleTransaction(stream_id)
        repeat = self._find_repeat(driver, stream_id, expected, new_events)
        if repeat is not None:
            return repeat
        raise ConcurrencyError(stream_id, expected, int(version))

    def _find_repeat(
        self,
        driver: Driver,
        stream_id: str,
        expected: int,
        new_events: Sequence[NewEvent],
    ) -> AppendResult | None:
        ids = [event.event_id for event in new_events]
        with driver.cursor(row_factory=dict_row) as cursor:
            cursor.execute(_STORED, (ids,))
            stored = {row["event_id"]: row for row in cursor.fetchall()}
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
            stream_id, expected + 1, expected + len(ids), bytes(last["hash"]), already_stored=True
        )

    def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        with self.engine.connect() as conn:
            return _read_stream(conn, stream_id, from_version, self.upcasters)

    def read_streams(self, stream_ids: Sequence[str]) -> dict[str, list[RecordedEvent]]:
        """Several streams in one read: stream id -> its events (absent when none)."""
        with self.engine.connect() as conn:
            return _read_streams(conn, stream_ids, self.upcasters)

    def read_all(self, after: Checkpoint | None = None, limit: int = 1000) -> list[RecordedEvent]:
        """Events after the checkpoint in (tx_id, position) order, only from
        transactions that have all finished (see ``store.reading``)."""
        with self.engine.connect() as conn:
            return _read_all(conn, after, limit, self.upcasters)

    def stream_version(self, stream_id: str) -> int:
        with self.engine.connect() as conn:
            version = conn.execute(
                select(streams.c.version).where(streams.c.stream_id == stream_id)
            ).scalar()
        return int(version or 0)


_STORED = (
    "SELECT event_id, stream_id, version, type, schema_version, data, metadata, hash "
    "FROM events WHERE event_id = ANY(%s)"
)


def _check_same(stream_id: str, version: int, event: NewEvent, row: dict[str, Any]) -> None:
    differences = [
        name
        for name, ours, theirs in (
            ("stream", stream_id, row["stream_id"]),
            ("version", version, row["version"]),
            ("type", event.type, row["type"]),
            ("schema_version", event.schema_version, row["schema_version"]),
            ("data", event.data, row["data"]),
            ("metadata", event.metadata, row["metadata"]),
        )
        if ours != theirs
    ]
    if differences:
        raise IdempotencyConflict(
            stream_id,
            str(event.event_id),
            "already stored with a different " + ", ".join(differences),
        )
