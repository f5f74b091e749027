"""Drive cases through the domain's ``decide`` and append their events to the store."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine

from domain.case import CaseState, decide, evolve
from domain.commands import Command, OpenCase
from domain.events import Event
from domain.vocabulary import Actor, CaseKind, Role, Source
from store.event_store import EventStore
from store.projections.registry import PROJECTIONS
from store.projections.runner import subscription_for
from store.records import NewEvent

CST = timezone(timedelta(hours=8))
SUPERVISOR = Actor(user_id="sup-1", role=Role.SUPERVISOR)
SYSTEM = Actor(user_id="workflow", role=Role.SYSTEM)


def unit_actor(unit_id: str) -> Actor:
    return Actor(user_id=f"user-{unit_id}", role=Role.UNIT, unit_id=unit_id)


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=CST)


def open_command(finding_id: str, **changes: Any) -> OpenCase:
    fields: dict[str, Any] = {
        "actor": SUPERVISOR,
        "finding_id": finding_id,
        "source": Source.INSPECTION,
        "title": f"问题 {finding_id}",
        "description": "说明",
        "category": "ecology",
        "unit_id": "unit-a",
        "cadre_id": "cadre-1",
        "kind": CaseKind.TIME_LIMITED,
        "deadline": date(2025, 4, 30),
    }
    fields.update(changes)
    return OpenCase(**fields)


def to_new(events: Sequence[Event]) -> list[NewEvent]:
    return [
        NewEvent(
            event_id=uuid.uuid4(),
            type=e.event_type,
            schema_version=e.schema_version,
            data=e.model_dump(mode="json"),
            metadata={"actor": "test"},
        )
        for e in events
    ]


class Case:
    """One case stream: each step is decided on the folded state and appended."""

    def __init__(self, store: EventStore, finding_id: str) -> None:
        self.store = store
        self.stream_id = f"case-{finding_id}"
        self.state: CaseState | None = None

    def do(self, command: Command, now: datetime) -> list[Event]:
        events = decide(self.state, command, now)
        version = self.state.version if self.state else 0
        self.store.append(self.stream_id, version, to_new(events))
        for event in events:
            self.state = evolve(self.state, event)
        return events


def catch_up(engine: Engine, batch_size: int = 500) -> None:
    for projection in PROJECTIONS.values():
        subscription_for(engine, projection, batch_size=batch_size).run_once()
