"""Test builders: actors, moments in China Standard Time, and a case history to drive."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from domain.case import CaseState, decide, fold
from domain.commands import Command, OpenCase, RequestClosure, SubmitPlan
from domain.events import Event
from domain.policy import DEFAULT_POLICY, Policy
from domain.values import Evidence
from domain.vocabulary import Actor, CaseKind, Role, Source

CST = timezone(timedelta(hours=8))

SUPERVISOR = Actor(user_id="sup-1", role=Role.SUPERVISOR)
UNIT = Actor(user_id="unit-user-1", role=Role.UNIT, unit_id="unit-a")
OTHER_UNIT = Actor(user_id="unit-user-2", role=Role.UNIT, unit_id="unit-b")
INSPECTOR = Actor(user_id="insp-1", role=Role.INSPECTOR)
SYSTEM = Actor(user_id="workflow", role=Role.SYSTEM)

EVIDENCE = Evidence(content_hash="ab" * 32, name="photo.jpg", media_type="image/jpeg", size=1024)


def at(year: int, month: int, day: int, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=CST)


NOW = at(2025, 3, 3)  # a Monday
DEADLINE = date(2025, 4, 30)


def open_case(**changes: Any) -> OpenCase:
    fields: dict[str, Any] = {
        "actor": SUPERVISOR,
        "finding_id": "F-1",
        "source": Source.INSPECTION,
        "title": "河道垃圾长期未清理",
        "description": "城东河道沿岸堆积生活垃圾",
        "category": "ecology",
        "severity": "major",
        "unit_id": "unit-a",
        "cadre_id": "cadre-1",
        "kind": CaseKind.TIME_LIMITED,
        "deadline": DEADLINE,
        "target": "两周内清理完毕并建立长效保洁机制",
    }
    fields.update(changes)
    return OpenCase(**fields)


@dataclass
class History:
    """A case's event log, driven by commands through ``decide``."""

    policy: Policy = DEFAULT_POLICY
    events: list[Event] = field(default_factory=list)

    @property
    def state(self) -> CaseState | None:
        return fold(self.events)

    @property
    def case(self) -> CaseState:
        state = self.state
        assert state is not None
        return state

    def do(self, command: Command, now: datetime = NOW) -> list[Event]:
        new = decide(self.state, command, now, self.policy)
        self.events.extend(new)
        return new


def opened(policy: Policy = DEFAULT_POLICY, now: datetime = NOW, **changes: Any) -> History:
    history = History(policy=policy)
    history.do(open_case(**changes), now)
    return history


def with_plan(history: History, now: datetime = NOW) -> History:
    history.do(SubmitPlan(actor=UNIT, plan="分三步清理并建立河长巡查制度"), now)
    return history


def pending_closure(history: History, now: datetime = NOW) -> History:
    with_plan(history, now)
    history.do(RequestClosure(actor=UNIT, summary="已清理完毕", evidence=(EVIDENCE,)), now)
    return history
