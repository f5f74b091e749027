"""What a case is now, and ``evolve``: how one event changes it.

``evolve`` applies facts; it checks nothing but that a case exists to apply
them to (the rules live in ``decide``), so any log ``decide`` wrote folds back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.constructed import constructed
from domain.errors import InvalidState
from domain.events import (
    AccountabilityRecorded,
    CaseAbsorbed,
    CaseClosed,
    CaseEscalated,
    CaseMergedInto,
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
    MilestonesSet,
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
    "LOOSE_FIELDS",
    "LOOSE_MILESTONE_FIELDS",
    "LOOSE_TYPES",
    "CaseState",
    "FindingRef",
    "MilestoneState",
    "PendingExtension",
    "case_id_for",
    "evolve",
    "evolve_owned",
    "evolve_owned_time",
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
    merged_into: str | None = None  # 合并: the case this one was merged into
    absorbed_case_ids: tuple[str, ...] = ()  # cases merged into this one (their histories)
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


def _opened(state: CaseState, event: CaseOpened) -> dict[str, object]:
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


def _milestones_set(state: CaseState, event: MilestonesSet) -> dict[str, object]:
    """The new list; a milestone kept with its id and date keeps its marks."""
    kept = {(m.milestone_id, m.due): m for m in state.milestones}
    milestones = []
    for m in event.milestones:
        old = kept.get((m.milestone_id, m.due))
        if old is None:
            milestones.append(MilestoneState(milestone_id=m.milestone_id, title=m.title, due=m.due))
        else:
            milestones.append(
                old if old.title == m.title else old.model_copy(update={"title": m.title})
            )
    return {"milestones": tuple(milestones)}


def _merged(state: CaseState, event: DuplicateFindingMerged) -> dict[str, object]:
    ref = FindingRef(finding_id=event.finding_id, source=event.source, title=event.title)
    return {"findings": (*state.findings, ref)}


def _deadline_set(state: CaseState, event: DeadlineSet) -> dict[str, object]:
    # A recount that only confirms the date keeps the reminders already sent.
    moved = {"deadline": event.deadline} if event.deadline == state.deadline else {}
    return {
        "original_deadline": event.deadline,
        "deadline_working_days": event.deadline_working_days,
        "deadline_counted_from": event.deadline_counted_from,
        "deadline_provisional": event.deadline_provisional,
        **(moved or _new_deadline(event.deadline)),
    }


def _deadline_extended(state: CaseState, event: DeadlineExtended) -> dict[str, object]:
    # A date granted by a person is not recounted: it is no longer provisional.
    return {
        "deadline_working_days": None,
        "deadline_counted_from": None,
        "deadline_provisional": False,
        **_new_deadline(event.deadline),
    }


def _warning(state: CaseState, event: WarningRaised) -> dict[str, object]:
    if event.reason is WarningReason.BEHIND_MILESTONE and event.milestone_id:
        return _with_milestone(state, event.milestone_id, warned=True)
    return {"warned": True}


def _escalated(state: CaseState, event: CaseEscalated) -> dict[str, object]:
    return {
        "escalation_level": int(event.level),
        "highest_escalation_level": max(state.highest_escalation_level, int(event.level)),
    }


def _extension_requested(state: CaseState, event: ExtensionRequested) -> dict[str, object]:
    pending = PendingExtension(
        request_number=event.request_number, proposed_deadline=event.proposed_deadline
    )
    return {"pending_extension": pending, "extensions_requested": event.request_number}


def _reopened(state: CaseState, event: CaseReopened) -> dict[str, object]:
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


def _withdrawn(state: CaseState, event: CaseWithdrawn) -> dict[str, object]:
    return {
        "status": CaseStatus.WITHDRAWN,
        "withdrawn_at": event.occurred_at,
        "pending_extension": None,
    }


def _merged_into(state: CaseState, event: CaseMergedInto) -> dict[str, object]:
    return {
        "status": CaseStatus.MERGED,
        "merged_into": event.into_case_id,
        "pending_extension": None,
    }


def _absorbed(state: CaseState, event: CaseAbsorbed) -> dict[str, object]:
    refs = tuple(
        FindingRef(finding_id=f.finding_id, source=f.source, title=f.title) for f in event.findings
    )
    return {
        "findings": (*state.findings, *refs),
        "absorbed_case_ids": (*state.absorbed_case_ids, event.absorbed_case_id),
    }


def _nothing(state: CaseState, event: Event) -> dict[str, object]:
    return {}


# What each event changes, by its class: one lookup per event rather than trying the
# classes in turn (a fold runs this for every event of the log).
_CHANGES: dict[type[Event], Callable[[CaseState, Any], dict[str, object]]] = {
    CaseOpened: _opened,
    DuplicateFindingMerged: _merged,
    ResponsibilityAssigned: lambda state, event: {"cadre_id": event.cadre_id},
    ResponsibilityTransferred: lambda state, event: {
        "unit_id": event.unit_id,
        "cadre_id": event.cadre_id,
    },
    DeadlineSet: _deadline_set,
    DeadlineExtended: _deadline_extended,
    TargetSet: lambda state, event: {"target": event.target},
    PlanSubmitted: lambda state, event: {"plan_submitted": True},
    MilestoneDue: lambda state, event: _with_milestone(state, event.milestone_id, due_marked=True),
    MilestoneReported: lambda state, event: _with_milestone(
        state, event.milestone_id, reported=True
    ),
    MilestonesSet: _milestones_set,
    ReminderSent: lambda state, event: {
        "reminders_sent": (*state.reminders_sent, event.working_days_before)
    },
    WarningRaised: _warning,
    CaseOverdue: lambda state, event: {"overdue": True},
    CaseEscalated: _escalated,
    ExtensionRequested: _extension_requested,
    ExtensionGranted: lambda state, event: {
        "pending_extension": None,
        "extensions_granted": state.extensions_granted + 1,
    },
    ExtensionDenied: lambda state, event: {"pending_extension": None},
    ClosureRequested: lambda state, event: {"status": CaseStatus.CLOSURE_PENDING},
    ClosureRejected: lambda state, event: {
        "status": CaseStatus.OPEN,
        "closure_rejections": state.closure_rejections + 1,
    },
    ClosureVerified: _nothing,
    ProgressReported: _nothing,
    SatisfactionRecorded: _nothing,
    CaseClosed: lambda state, event: {"status": CaseStatus.CLOSED, "closed_at": event.occurred_at},
    CaseReopened: _reopened,
    CaseWithdrawn: _withdrawn,
    CaseMergedInto: _merged_into,
    CaseAbsorbed: _absorbed,
    AccountabilityRecorded: lambda state, event: {
        "accountability_count": state.accountability_count + 1
    },
    ToleranceApplied: lambda state, event: {"tolerance_count": state.tolerance_count + 1},
}


def _changes(state: CaseState, event: Event) -> dict[str, object]:
    change = _CHANGES.get(type(event))
    if change is None:  # a subclass of an event class, or not a case event
        change = next((f for cls, f in _CHANGES.items() if isinstance(event, cls)), None)
    if change is None:
        raise InvalidState(
            "unknown_event", f"未知事件：{event.event_type}", f"unknown event {event.event_type}"
        )
    return change(state, event)


def evolve(state: CaseState | None, event: Event) -> CaseState:
    if state is None:
        return _first(event)
    return _updated(state, _next(state, event))


def evolve_owned(state: CaseState | None, event: Event) -> CaseState:
    """``evolve(state, event)`` written into ``state`` itself, when there is one: for a
    fold that owns its state (it started from None with this function, and nothing else
    sees the state until the fold is done), one update of its values per event instead
    of a new state (a rebuild folds every event of the log). The same values and fields
    set as ``evolve`` gives."""
    if state is None:
        return _first(event)  # a new state: its values and fields set are its own
    changes = _next(state, event)
    state.__dict__.update(changes)
    state.__pydantic_fields_set__.update(changes)
    return state


# Event types whose content changes nothing of a case's state but the fields in
# ``LOOSE_FIELDS`` (reminders sent, warnings, the plan, the target, a pending extension
# request once denied) and the ``due_marked`` and ``warned`` flags of its milestones: a
# reader that needs none of those may fold an event of these types by its time alone
# (``evolve_owned_time``) and skip its content. The property tests check that such a
# fold differs from the whole one in nothing else.
LOOSE_TYPES = frozenset(
    cls.event_type
    for cls in (
        ProgressReported,
        PlanSubmitted,
        ClosureVerified,
        ReminderSent,
        WarningRaised,
        ExtensionDenied,
        MilestoneDue,
        TargetSet,
    )
)
LOOSE_FIELDS = frozenset(
    {"plan_submitted", "reminders_sent", "warned", "target", "pending_extension"}
)
LOOSE_MILESTONE_FIELDS = frozenset({"due_marked", "warned"})


def evolve_owned_time(state: CaseState | None, event_type: str, occurred_at: datetime) -> CaseState:
    """``evolve_owned`` of an event of a type in ``LOOSE_TYPES`` known only by its type
    and business time: the version and the last event's time move on, its content is
    not applied (the state is exact but for the loose fields)."""
    if event_type not in LOOSE_TYPES:
        raise TypeError(f"a {event_type} changes more than the loose fields: fold it whole")
    if state is None:
        raise _no_finding(event_type)
    values = state.__dict__
    values["version"] = state.version + 1
    values["last_event_at"] = occurred_at
    return state


def _first(event: Event) -> CaseState:
    if not isinstance(event, FindingRecorded):
        raise _no_finding(event.event_type)
    return _first_state(event)


def _no_finding(event_type: str) -> InvalidState:
    return InvalidState(
        "no_finding", "尚无登记的问题", f"{event_type} before any finding was recorded"
    )


def _next(state: CaseState, event: Event) -> dict[str, object]:
    """What ``event`` changes in ``state``, with the version and the last event's time."""
    if isinstance(event, FindingRecorded):
        raise InvalidState(
            "finding_already_recorded", "该问题已登记", "the finding is already recorded"
        )
    changes = _changes(state, event)
    changes["version"] = state.version + 1
    changes["last_event_at"] = event.occurred_at
    return changes


def _updated(state: CaseState, changes: dict[str, object]) -> CaseState:
    """``state.model_copy(update=changes)``, without pydantic's generic copy (a fold
    makes one per event): the same fields, the same ``model_fields_set``; like
    ``model_copy``, the changed values are taken as given, not validated."""
    fields_set = state.__pydantic_fields_set__
    if not changes.keys() <= fields_set:
        fields_set = fields_set | changes.keys()
    # A frozen model's fields set is never changed in place, so states may share one.
    return constructed(CaseState, {**state.__dict__, **changes}, fields_set)


# A new case's state: every field at its default, in the model's order; the fields a
# finding sets are filled in by ``_first_state``.
_DEFAULTS = {
    name: None if field.is_required() else field.get_default(call_default_factory=True)
    for name, field in CaseState.model_fields.items()
}
_FIRST_FIELDS = frozenset(
    {
        "case_id",
        "findings",
        "status",
        "title",
        "unit_id",
        "cadre_id",
        "recorded_at",
        "version",
        "last_event_at",
    }
)


def _first_state(event: FindingRecorded) -> CaseState:
    """``CaseState(case_id=…, findings=…, …)`` of a recorded finding, built from the
    event's own (validated) values without validating them again, as ``_updated`` does:
    a fold makes one per case."""
    ref = constructed(
        FindingRef,
        {"finding_id": event.finding_id, "source": event.source, "title": event.title},
        {"finding_id", "source", "title"},
    )
    values = dict(_DEFAULTS)
    values.update(
        case_id=case_id_for(event.finding_id),
        findings=(ref,),
        status=CaseStatus.RECORDED,
        title=event.title,
        unit_id=event.unit_id,
        cadre_id=event.cadre_id,
        recorded_at=event.occurred_at,
        version=1,
        last_event_at=event.occurred_at,
    )
    return constructed(CaseState, values, set(_FIRST_FIELDS))


def fold(events: Iterable[Event]) -> CaseState | None:
    state: CaseState | None = None
    for event in events:
        state = evolve_owned(state, event)
    return state
