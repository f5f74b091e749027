"""Drive cases through the domain's ``decide`` and append their events to the store."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine

from domain.case import CaseState, decide, evolve
from domain.commands import (
    ApplyTolerance,
    Command,
    Escalate,
    GrantExtension,
    MarkOverdue,
    OpenCase,
    RaiseWarning,
    RecordAccountability,
    RecordSatisfaction,
    RejectClosure,
    ReopenCase,
    RequestClosure,
    RequestExtension,
    SubmitPlan,
    TransferResponsibility,
    VerifyClosure,
    WithdrawCase,
)
from domain.events import Event
from domain.vocabulary import AccountabilityAction, Actor, CaseKind, Role, Source, WarningReason
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


def step(name: str, unit_id: str, transfer_to: tuple[str, str] | None = None) -> Command:
    """A scripted scenario's step by name, for a case of ``unit_id`` (a transfer goes to
    the unit and cadre ``transfer_to``)."""
    if name == "transfer":
        assert transfer_to is not None, "a transfer needs the unit and cadre it goes to"
        return TransferResponsibility(
            actor=SUPERVISOR, unit_id=transfer_to[0], cadre_id=transfer_to[1], reason="职责调整"
        )
    unit = unit_actor(unit_id)
    steps: dict[str, Command] = {
        "request": RequestClosure(actor=unit, summary="完成"),
        "verify": VerifyClosure(actor=SUPERVISOR),
        "reject": RejectClosure(actor=SUPERVISOR, reason="材料不足"),
        "extend": RequestExtension(
            actor=unit, reason="工程量大", proposed_deadline=date(2025, 6, 30)
        ),
        "grant": GrantExtension(actor=SUPERVISOR),
        "warn": RaiseWarning(actor=SYSTEM, reason=WarningReason.NEAR_DEADLINE),
        "overdue": MarkOverdue(actor=SYSTEM),
        "escalate1": Escalate(actor=SYSTEM, level=1),
        "escalate2": Escalate(actor=SYSTEM, level=2),
        "reopen": ReopenCase(actor=SUPERVISOR, reason="反弹", deadline=date(2025, 6, 30)),
        "withdraw": WithdrawCase(actor=SUPERVISOR, reason="不成立"),
        "satisfaction80": RecordSatisfaction(actor=SUPERVISOR, score_percent=80),
        "satisfaction90": RecordSatisfaction(actor=SUPERVISOR, score_percent=90),
        "accountability": RecordAccountability(
            actor=SUPERVISOR,
            action=AccountabilityAction.ADMONISHMENT_TALK,
            reason="整改不力",
            by_decision=True,
        ),
        "tolerance": ApplyTolerance(actor=SUPERVISOR, reason="客观原因", by_decision=True),
    }
    return steps[name]


Steps = list[tuple[datetime, str]]


def advance(case: Case, steps: Steps, transfer_to: tuple[str, str] | None = None) -> None:
    """Each named step (``step``) at its time."""
    for when, name in steps:
        assert case.state is not None
        case.do(step(name, case.state.unit_id, transfer_to), when)


def scripted(
    store: EventStore,
    finding_id: str,
    unit_id: str,
    cadre_id: str,
    steps: Steps,
    transfer_to: tuple[str, str] | None = None,
) -> Case:
    """A case opened on 2025-03-03 with the deadline 2025-04-30, its plan two days later,
    then ``steps``."""
    case = Case(store, finding_id)
    case.do(open_command(finding_id, unit_id=unit_id, cadre_id=cadre_id), at(2025, 3, 3))
    case.do(SubmitPlan(actor=unit_actor(unit_id), plan="方案"), at(2025, 3, 5))
    advance(case, steps, transfer_to)
    return case
