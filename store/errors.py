"""Store errors.

StoreError
├── ConcurrencyError     the stream is not at the expected version
├── IdempotencyConflict  an event id is already stored with other content
├── StaleTransaction     the caller's open transaction is older than the stream's last writer
├── ProjectionBusy       another runner holds the projection's lock
├── SealError            a seal cannot be made (no key, or the log no longer matches a seal)
└── DatabaseUnreachable  the server cannot be reached with the given URL
"""

from __future__ import annotations

__all__ = [
    "ConcurrencyError",
    "DatabaseUnreachable",
    "IdempotencyConflict",
    "ProjectionBusy",
    "SealError",
    "StaleTransaction",
    "StoreError",
]


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


class StaleTransaction(StoreError):
    """Appending in this (caller-held) transaction would put the new events
    before the stream's earlier events in (tx_id, position) order. Nothing was
    written; roll back and retry in a new transaction."""

    def __init__(self, stream_id: str) -> None:
        super().__init__(
            f"stream {stream_id!r} was last written by a newer transaction; "
            "roll back and retry the append in a new transaction"
        )
        self.stream_id = stream_id


class ProjectionBusy(StoreError):
    def __init__(self, projection: str) -> None:
        super().__init__(f"projection {projection!r} is already being run elsewhere")
        self.projection = projection


class SealError(StoreError):
    """``reason``: ``key`` (an unusable key), ``unknown_key`` (a seal names a
    key we do not hold), ``bad_signature`` (a seal does not verify with its
    key), ``broken_seal_chain`` (a seal does not chain to the one before),
    ``log_changed`` (the log no longer matches the last seal) or
    ``broken_links`` (a chain in the range to seal is broken).
    ``seal_seq`` and ``key_id`` name the seal and its key, where one is meant."""

    def __init__(
        self, message: str, reason: str, *, seal_seq: int | None = None, key_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.seal_seq = seal_seq
        self.key_id = key_id


class DatabaseUnreachable(StoreError):
    pass
