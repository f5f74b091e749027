"""The activity that appends a workflow's events to the event store."""

from __future__ import annotations

import uuid

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.models import AppendEventsInput, AppendEventsResult
from store.errors import ConcurrencyError, IdempotencyConflict
from store.event_store import EventStore
from store.records import NewEvent

__all__ = ["EventLogActivities"]

log = structlog.get_logger(__name__)


class EventLogActivities:
    """Built in worker.py with the store injected; its methods are the activities."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    @activity.defn(name="append_events")
    def append_events(self, request: AppendEventsInput) -> AppendEventsResult:
        info = activity.info()
        bound = log.bind(
            workflow_id=info.workflow_id, case_id=request.stream_id, attempt=info.attempt
        )
        new_events = [
            NewEvent(
                event_id=uuid.UUID(event.event_id),
                type=event.type,
                schema_version=event.schema_version,
                data=event.data,
                metadata=event.metadata,
            )
            for event in request.events
        ]
        try:
            result = self._store.append(
                request.stream_id,
                request.expected_version,
                new_events,
                stream_type=request.stream_type,
            )
        except ConcurrencyError as exc:
            # The workflow is the single writer of its stream: another writer is a bug,
            # and retrying cannot fix it.
            raise ApplicationError(str(exc), type="ConcurrencyError", non_retryable=True) from exc
        except IdempotencyConflict as exc:
            raise ApplicationError(
                str(exc), type="IdempotencyConflict", non_retryable=True
            ) from exc
        bound.info(
            "events_appended",
            types=[event.type for event in request.events],
            last_version=result.last_version,
            already_stored=result.already_stored,
        )
        return AppendEventsResult(
            stream_id=result.stream_id,
            last_version=result.last_version,
            head_hash=result.head_hash.hex(),
            already_stored=result.already_stored,
        )
