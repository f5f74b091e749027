"""A case as a fold: ``decide`` turns a command into events, ``evolve`` applies one.

Both are pure, so the workflow (its update validators), the API and the
archive all run the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from domain.commands import Command, OpenCase
from domain.errors import InvalidCommand, InvalidState, PermissionDenied
from domain.events import CaseOpened, Event, FindingRecorded
from domain.vocabulary import CaseKind, CaseStatus, Role, Source

__all__ = ["CaseState", "FindingRef", "case_id_for", "decide", "evolve", "fold"]


class FindingRef(BaseModel):
    """One finding behind a case (a merged duplicate adds another)."""

    model_config = ConfigDict(frozen=True)

    finding_id: str
    source: Source
    title: str


class CaseState(BaseModel):
    """What a case is now. Before ``CaseOpened`` only the finding is known."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    findings: tuple[FindingRef, ...]
    status: CaseStatus
    title: str
    unit_id: str
    cadre_id: str
    kind: CaseKind | None = None
    deadline: date | None = None
    target: str = ""
    recorded_at: datetime
    opened_at: datetime | None = None
    version: int  # number of events folded so far, i.e. the stream version


def case_id_for(finding_id: str) -> str:
    return finding_id


def decide(state: CaseState | None, command: Command, now: datetime) -> list[Event]:
    if isinstance(command, OpenCase):
        return _open(state, command, now)
    raise InvalidCommand(
        "unknown_command",
        f"不支持的指令：{type(command).__name__}",
        f"unsupported command: {type(command).__name__}",
    )


def _open(state: CaseState | None, cmd: OpenCase, now: datetime) -> list[Event]:
    if cmd.actor.role is not Role.SUPERVISOR:
        raise PermissionDenied(
            "only_supervisor_opens", "只有督查部门可以立项整改", "only a supervisor may open a case"
        )
    if state is not None:
        raise InvalidState("case_exists", "该问题已立项", "a case already exists for this finding")
    if cmd.deadline <= now.date():
        raise InvalidCommand(
            "deadline_not_in_future",
            f"整改期限 {cmd.deadline} 必须晚于今天",
            f"the deadline {cmd.deadline} must be after today",
        )
    recorded = FindingRecorded(
        occurred_at=now,
        finding_id=cmd.finding_id,
        source=cmd.source,
        title=cmd.title,
        description=cmd.description,
        category=cmd.category,
        severity=cmd.severity,
        unit_id=cmd.unit_id,
        cadre_id=cmd.cadre_id,
    )
    opened = CaseOpened(
        occurred_at=now,
        case_id=case_id_for(cmd.finding_id),
        finding_id=cmd.finding_id,
        unit_id=cmd.unit_id,
        cadre_id=cmd.cadre_id,
        kind=cmd.kind,
        deadline=cmd.deadline,
        target=cmd.target,
    )
    return [recorded, opened]


def evolve(state: CaseState | None, event: Event) -> CaseState:
    if isinstance(event, FindingRecorded):
        if state is not None:
            raise InvalidState(
                "finding_already_recorded", "该问题已登记", "the finding is already recorded"
            )
        return CaseState(
            case_id=case_id_for(event.finding_id),
            findings=(
                FindingRef(finding_id=event.finding_id, source=event.source, title=event.title),
            ),
            status=CaseStatus.RECORDED,
            title=event.title,
            unit_id=event.unit_id,
            cadre_id=event.cadre_id,
            recorded_at=event.occurred_at,
            version=1,
        )
    if state is None:
        raise InvalidState(
            "no_finding", "尚无登记的问题", f"{event.event_type} before any finding was recorded"
        )
    if isinstance(event, CaseOpened):
        return state.model_copy(
            update={
                "status": CaseStatus.OPEN,
                "unit_id": event.unit_id,
                "cadre_id": event.cadre_id,
                "kind": event.kind,
                "deadline": event.deadline,
                "target": event.target,
                "opened_at": event.occurred_at,
                "version": state.version + 1,
            }
        )
    raise InvalidState(
        "unknown_event", f"未知事件：{event.event_type}", f"unknown event {event.event_type}"
    )


def fold(events: Iterable[Event]) -> CaseState | None:
    state: CaseState | None = None
    for event in events:
        state = evolve(state, event)
    return state
