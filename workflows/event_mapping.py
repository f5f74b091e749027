"""Domain events to the activity's append request (pure: runs inside the workflow)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

from activities.models import EventToAppend
from domain.events import Event
from domain.vocabulary import Actor
from workflows.models import RequestContext

__all__ = ["to_append"]


def to_append(
    events: Sequence[Event],
    *,
    actor: Actor,
    context: RequestContext,
    workflow_id: str,
    new_id: Callable[[], UUID],
) -> list[EventToAppend]:
    ids = [str(new_id()) for _ in events]
    metadata_base = {
        "actor": actor.user_id,
        "role": actor.role.value,
        "unit_id": actor.unit_id,
        "request_id": context.request_id,
        "correlation_id": context.correlation_id or workflow_id,
        "workflow_id": workflow_id,
        "command_key": context.command_key,
    }
    appended = []
    for index, event in enumerate(events):
        metadata = dict(metadata_base)
        # The first event of a command is caused by the request; the rest by the first.
        metadata["causation_id"] = context.request_id if index == 0 else ids[0]
        appended.append(
            EventToAppend(
                event_id=ids[index],
                type=event.event_type,
                schema_version=event.schema_version,
                data=event.model_dump(mode="json"),
                metadata={key: value for key, value in metadata.items() if value is not None},
            )
        )
    return appended
