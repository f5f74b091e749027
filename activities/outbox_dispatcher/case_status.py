"""A case as it is now, folded from its stream: who it belongs to, whether it is still open."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.case import CaseState, fold
from domain.events import event_from_json
from domain.vocabulary import CaseStatus
from store.event_store import EventStore

__all__ = ["CaseNow", "case_now"]

FINISHED = (CaseStatus.CLOSED, CaseStatus.WITHDRAWN)


@dataclass(frozen=True, slots=True)
class CaseNow:
    state: CaseState | None
    cause: dict[str, Any] = field(default_factory=dict)  # data of the causing event

    @property
    def finished(self) -> bool:
        """Closed or withdrawn: its pending notices are no longer true."""
        return self.state is not None and self.state.status in FINISHED


def case_now(store: EventStore, stream_id: str, notice_key: str | None = None) -> CaseNow:
    """Fold the stream; ``notice_key`` (``<event id>`` or ``<event id>:…``) picks the cause."""
    stored = store.read_stream(stream_id)
    event_id = None if notice_key is None else notice_key.split(":", 1)[0]
    cause = next((dict(e.data) for e in stored if str(e.event_id) == event_id), {})
    state = fold(event_from_json(e.type, e.schema_version, e.data) for e in stored)
    return CaseNow(state, cause)
