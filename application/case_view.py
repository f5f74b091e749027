"""A case as the API shows it: its state folded from its events, and the events."""

from __future__ import annotations

from application.models import CaseOut, EventOut
from domain.case import fold
from domain.events import event_class
from store.event_store import EventStore
from store.records import RecordedEvent
from workflows.models import case_workflow_id

__all__ = ["event_out", "load_case"]


def event_out(event: RecordedEvent) -> EventOut:
    return EventOut(
        version=event.version,
        type=event.type,
        schema_version=event.schema_version,
        event_id=str(event.event_id),
        data=event.data,
        actor=event.metadata.get("actor"),
        role=event.metadata.get("role"),
        request_id=event.metadata.get("request_id"),
        recorded_at=event.recorded_at,
        previous_hash=event.previous_hash.hex(),
        hash=event.hash.hex(),
    )


def load_case(store: EventStore, case_id: str) -> CaseOut | None:
    stream_id = case_workflow_id(case_id)
    recorded = store.read_stream(stream_id)
    if not recorded:
        return None
    state = fold(event_class(e.type).model_validate(e.data) for e in recorded)
    assert state is not None
    return CaseOut(
        case_id=case_id,
        workflow_id=stream_id,
        state=state,
        events=[event_out(e) for e in recorded],
    )
