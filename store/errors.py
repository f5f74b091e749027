"""Store errors.

StoreError
├── ConcurrencyError     the stream is not at the expected version
├── IdempotencyConflict  an event id is already stored with other content
└── DatabaseUnreachable  the server cannot be reached with the given URL
"""

from __future__ import annotations

__all__ = ["ConcurrencyError", "DatabaseUnreachable", "IdempotencyConflict", "StoreError"]


class StoreError(Exception):
    pass


class ConcurrencyError(StoreError):
    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, not the expected {expected}"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class IdempotencyConflict(StoreError):
    def __init__(self, stream_id: str, event_id: str, reason: str) -> None:
        super().__init__(f"event {event_id} of stream {stream_id!r}: {reason}")
        self.stream_id = stream_id
        self.event_id = event_id
        self.reason = reason


class DatabaseUnreachable(StoreError):
    pass
