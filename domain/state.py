"""What a case is now, and ``evolve``: how one event changes it.

``evolve`` applies facts; it checks nothing but that a case exists to apply
them to (the rules live in ``decide``), so any log ``decide`` wrote folds back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from domain.errors import InvalidState
from domain.events import (
    AccountabilityRecorded,
    CaseClosed,
    CaseEscalated,
    CaseOpened,
    CaseOverdue,
    CaseReopened,
    CaseWithdrawn,
    ClosureRejected,
    ClosureRequested,
    ClosureVerified,
    DeadlineExtended,
    DeadlineSet,
    DuplicateFindingMerged,
    Event,
    ExtensionDenied,
    ExtensionGranted,
    ExtensionRequested,
    FindingRecorded,
    MilestoneDue,
    MilestoneReported,
    PlanSubmitted,
    ProgressReported,
    ReminderSent,
    ResponsibilityAssigned,
    ResponsibilityTransferred,
    SatisfactionRecorded,
    TargetSet,
    ToleranceApplied,
    WarningRaised,
)
from domain.vocabulary import CaseKind, CaseStatus, Source, WarningReason

__all__ = [
    "CaseState",
    "FindingRef",
    "MilestoneState",
    "PendingExtension",
    "case_id_for",
    "evolve",
    "fold",
]

_Frozen = ConfigDict(frozen=True)


class FindingRef(BaseModel):
    """One finding behind a case (a merged duplicate adds another)."""

    model_config = _Frozen

    finding_id: str
    source: Source
    title: str


class MilestoneState(BaseModel):
    model_config = _Frozen

    milestone_id: str
    title: str
    due: date
    due_marked: bool = False
    warned: bool = False
    reported: bool = False


class PendingExtension(BaseModel):
    model_config = _Frozen

    request_number: int
    proposed_deadline: date


class CaseState(BaseModel):
    """What a case is now. Before ``CaseOpened`` only the finding is known."""

    model_config = _Frozen

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

    # The deadline the archive judges "on time" by: moved by corrections and
    # reopening, never by extensions.
    original_deadline: date | None = None
    deadline_working_days: int | None = None  # None: the deadline was given as a date
    deadline_counted_from: date | None = None
    deadline_provisional: bool = False
    milestones: tuple[MilestoneState, ...] = ()
    plan_submitted: bool = False
    pending_extension: PendingExtension | None = None
    extensions_requested: int = 0
    extensions_granted: int = 0
    closure_rejections: int = 0
    closed_at: datetime | None = None
    withdrawn_at: datetime | None = None
    # Per deadline: reset whenever the deadline moves.
    reminders_sent: tuple[int, ...] = ()
    warned: bool = False
    overdue: bool = False
    escalation_level: int = 0
    # Over the case's whole life.
    highest_escalation_level: int = 0
    reopen_count: int = 0
    accountability_count: int = 0
    tolerance_count: int = 0
    last_event_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        """Opened and still being worked on (closure may be pending)."""
        return self.status in (CaseStatus.OPEN, CaseStatus.CLOSURE_PENDING)

    def milestone(self, milestone_id: str) -> MilestoneState | None:
        return next((m for m in self.milestones if m.milestone_id == milestone_id), None)


def case_id_for(finding_id: str) -> str:
    return finding_id


def _new_deadline(deadline: date) -> dict[str, object]:
    """The per-deadline fields, reset for a new deadline."""
    return {
        "deadline": deadline,
        "reminders_sent": (),
        "warned": False,
        "overdue": False,
        "escalation_level": 0,
    }


def _with_milestone(state: CaseState, milestone_id: str, **changes: bool) -> dict[str, object]:
    return {
        "milestones": tuple(
            m.model_copy(update=changes) if m.milestone_id == milestone_id else m
            for m in state.milestones
        )
    }


def _changes(state: CaseState, event: Event) -> dict[str, object]:
    match event:
        case CaseOpened():
            return {
                "status": CaseStatus.OPEN,
                "unit_id": event.unit_id,
                "cadre_id": event.cadre_id,
                "kind": event.kind,
                "target": event.target,
                "opened_at": event.occurred_at,
                "original_deadline": event.deadline,
                "deadline_working_days": event.deadline_working_days,
                "deadline_counted_from": event.deadline_counted_from,
                "deadline_provisional": event.deadline_provisional,
                "milestones": tuple(
                    MilestoneState(milestone_id=m.milestone_id, title=m.title, due=m.due)
                    for m in event.milestones
                ),
                **_new_deadline(event.deadline),
            }
        case DuplicateFindingMerged():
            ref = FindingRef(finding_id=event.finding_id, source=event.source, title=event.title)
            return {"findings": (*state.findings, ref)}
        case ResponsibilityAssigned():
            return {"cadre_id": event.cadre_id}
        case ResponsibilityTransferred():
            return {"unit_id": event.unit_id, "cadre_id": event.cadre_id}
        case DeadlineSet():
            # A recount that only confirms the date keeps the reminders already sent.
            moved = {"deadline": event.deadline} if event.deadline == state.deadline else {}
            return {
                "original_deadline": event.deadline,
                "deadline_working_days": event.deadline_working_days,
                "deadline_counted_from": event.deadline_counted_from,
                "deadline_provisional": event.deadline_provisional,
                **(moved or _new_deadline(event.deadline)),
            }
        case DeadlineExtended():
            # A date granted by a person is not recounted: it is no longer provisional.
            return {
                "deadline_working_days": None,
                "deadline_counted_from": None,
                "deadline_provisional": False,
                **_new_deadline(event.deadline),
            }
        case TargetSet():
            return {"target": event.target}
        case PlanSubmitted():
            return {"plan_submitted": True}
        case MilestoneDue():
            return _with_milestone(state, event.milestone_id, due_marked=True)
        case MilestoneReported():
            return _with_milestone(state, event.milestone_id, reported=True)
        case ReminderSent():
            return {"reminders_sent": (*state.reminders_sent, event.working_days_before)}
        case WarningRaised():
            if event.reason is WarningReason.BEHIND_MILESTONE and event.milestone_id:
                return _with_milestone(state, event.milestone_id, warned=True)
            return {"warned": True}
        case CaseOverdue():
            return {"overdue": True}
        case CaseEscalated():
            return {
                "escalation_level": int(event.level),
                "highest_escalation_level": max(state.highest_escalation_level, int(event.level)),
            }
        case ExtensionRequested():
            pending = PendingExtension(
                request_number=event.request_number, proposed_deadline=event.proposed_deadline
            )
            return {"pending_extension": pending, "extensions_requested": event.request_number}
        case ExtensionGranted():
            return {"pending_extension": None, "extensions_granted": state.extensions_granted + 1}
        case ExtensionDenied():
            return {"pending_extension": None}
        case ClosureRequested():
            return {"status": CaseStatus.CLOSURE_PENDING}
        case ClosureRejected():
            return {"status": CaseStatus.OPEN, "closure_rejections": state.closure_rejections + 1}
        case ClosureVerified() | ProgressReported() | SatisfactionRecorded():
            return {}
        case CaseClosed():
            return {"status": CaseStatus.CLOSED, "closed_at": event.occurred_at}
        case CaseReopened():
            return {
                "status": CaseStatus.OPEN,
                "closed_at": None,
                "reopen_count": state.reopen_count + 1,
                "original_deadline": event.deadline,
                "deadline_working_days": event.deadline_working_days,
                "deadline_counted_from": event.deadline_counted_from,
                "deadline_provisional": event.deadline_provisional,
                "pending_extension": None,
                **_new_deadline(event.deadline),
            }
        case CaseWithdrawn():
            return {
                "status": CaseStatus.WITHDRAWN,
                "withdrawn_at": event.occurred_at,
                "pending_extension": None,
            }
        case AccountabilityRecorded():
            return {"accountability_count": state.accountability_count + 1}
        case ToleranceApplied():
            return {"tolerance_count": state.tolerance_count + 1}
    raise InvalidState(
        "unknown_event", f"未知事件：{event.event_type}", f"unknown event {event.event_type}"
    )


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
            last_event_at=event.occurred_at,
        )
    if state is None:
        raise InvalidState(
            "no_finding", "尚无登记的问题", f"{event.event_type} before any finding was recorded"
        )
    changes = _changes(state, event)
    changes["version"] = state.version + 1
    changes["last_event_at"] = event.occurred_at
    return _updated(state, changes)


_set = object.__setattr__


def _updated(state: CaseState, changes: dict[str, object]) -> CaseState:
    """``state.model_copy(update=changes)``, without pydantic's generic copy (a fold
    makes one per event): the same fields, the same ``model_fields_set``; like
    ``model_copy``, the changed values are taken as given, not validated."""
    new = CaseState.__new__(CaseState)
    _set(new, "__dict__", {**state.__dict__, **changes})
    _set(new, "__pydantic_fields_set__", state.__pydantic_fields_set__ | changes.keys())
    _set(new, "__pydantic_extra__", None)
    _set(new, "__pydantic_private__", None)
    return new


def fold(events: Iterable[Event]) -> CaseState | None:
    state: CaseState | None = None
    for event in events:
        state = evolve(state, event)
    return state
