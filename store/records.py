"""What goes into the store and what comes out of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

__all__ = ["AppendResult", "NewEvent", "RecordedEvent"]


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append. ``event_id`` is chosen by the writer (the workflow's
    ``workflow.uuid4()``), which makes a retried append recognisable.

    ``metadata`` carries actor, role, unit_id, request_id, causation_id and
    correlation_id where known.
    """

    event_id: UUID
    type: str
    data: dict[str, Any]
    schema_version: int = 1
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    position: int
    tx_id: int
    stream_id: str
    version: int
    event_id: UUID
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime
    previous_hash: bytes
    hash: bytes


@dataclass(frozen=True, slots=True)
class AppendResult:
    stream_id: str
    first_version: int
    last_version: int
    head_hash: bytes
    already_stored: bool = False  # True when this was a repeat of an earlier append
