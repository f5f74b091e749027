"""Small builders shared by the store tests."""

from __future__ import annotations

import time
import uuid

from store.canonical import canonical_bytes
from store.event_store import EventStore
from store.reading import Checkpoint
from store.records import NewEvent, RecordedEvent


def new_events(n: int, **data: object) -> list[NewEvent]:
    return [
        NewEvent(
            event_id=uuid.uuid4(), type="Noted", data={"n": i, **data}, metadata={"actor": "t"}
        )
        for i in range(n)
    ]


def canonical_of(event: RecordedEvent) -> bytes:
    """The Python canonical form of a stored event, from what was read back."""
    return canonical_bytes(
        stream_id=event.stream_id,
        version=event.version,
        event_id=event.event_id,
        type=event.type,
        schema_version=event.schema_version,
        recorded_at=event.recorded_at,
        data=event.data,
        metadata=event.metadata,
    )


def new_stream() -> str:
    return f"case-{uuid.uuid4()}"


def drain(
    store: EventStore, after: Checkpoint, streams: set[str] | None = None
) -> tuple[list[RecordedEvent], Checkpoint]:
    """Everything readable now after ``after`` (optionally only some streams)."""
    found: list[RecordedEvent] = []
    while batch := store.read_all(after, limit=50):
        after = Checkpoint.after(batch[-1])
        found.extend(e for e in batch if streams is None or e.stream_id in streams)
    return found, after


def drain_until(
    store: EventStore, after: Checkpoint, streams: set[str], count: int, timeout: float = 10.0
) -> tuple[list[RecordedEvent], Checkpoint]:
    """Read until ``count`` events of ``streams`` arrived (other servers' open
    transactions can hold the snapshot bound back for a moment)."""
    found: list[RecordedEvent] = []
    deadline = time.monotonic() + timeout
    while len(found) < count and time.monotonic() < deadline:
        more, after = drain(store, after, streams)
        found.extend(more)
        if len(found) < count:
            time.sleep(0.02)
    return found, after
