"""Events: facts in the past tense. Each has a stable type name and a schema version.

The store keeps ``event_type``, ``schema_version`` and ``model_dump(mode="json")``;
``EVENT_TYPES`` maps a stored type name back to its class. Numbers are ``int`` or
decimal strings, never floats: the store hashes the JSON text, and a float's text
is not stable across implementations.

Fields added to an event later must have defaults, so old stored events still
load; a change of meaning needs a new ``schema_version`` and an upcaster.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from domain.values import Evidence, MergedFinding, Milestone
from domain.vocabulary import (
    AccountabilityAction,
    CaseKind,
    EscalationLevel,
    Source,
    WarningReason,
)

__all__ = [
    "EVENT_TYPES",
    "AccountabilityRecorded",
    "CaseAbsorbed",
    "CaseClosed",
    "CaseEscalated",
    "CaseMergedInto",
    "CaseOpened",
    "CaseOverdue",
    "CaseReopened",
    "CaseWithdrawn",
    "ClosureRejected",
    "ClosureRequested",
    "ClosureVerified",
    "DeadlineExtended",
    "DeadlineSet",
    "DuplicateFindingMerged",
    "Event",
    "ExtensionDenied",
    "ExtensionGranted",
    "ExtensionRequested",
    "FindingEvent",
    "FindingRecorded",
    "MilestoneDue",
    "MilestoneReported",
    "MilestonesSet",
    "PlanSubmitted",
    "ProgressReported",
    "ReminderSent",
    "ResponsibilityAssigned",
    "ResponsibilityTransferred",
    "SatisfactionRecorded",
    "TargetSet",
    "ToleranceApplied",
    "WarningRaised",
    "event_class",
    "event_from_json",
    "event_from_json_text",
    "occurred_at_from_json_text",
    "occurred_at_from_text",
]


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    occurred_at: datetime  # business time: the workflow's clock, not the database's


# -- finding and opening ---------------------------------------------------------


class FindingEvent(Event):
    """The fields of a finding, shared by the events that record or merge one."""

    finding_id: str
    source: Source
    title: str
    description: str = ""
    category: str | None = None
    severity: str | None = None


class FindingRecorded(FindingEvent):
    """考核发现问题: a concrete problem at a concrete unit, from one source."""

    event_type: ClassVar[str] = "FindingRecorded"

    unit_id: str
    cadre_id: str


class DuplicateFindingMerged(FindingEvent):
    """减负: another channel found the same problem; it joins this case as one more source."""

    event_type: ClassVar[str] = "DuplicateFindingMerged"

    similarity: str | None = None  # decimal string, e.g. "0.8125"; None when merged by hand


class CaseOpened(Event):
    """整改立项: responsible unit and cadre, kind, deadline and target are set."""

    event_type: ClassVar[str] = "CaseOpened"

    case_id: str
    finding_id: str
    unit_id: str
    cadre_id: str
    kind: CaseKind
    deadline: date
    target: str = Field(default="")
    # Set when the deadline was counted in working days rather than given as a date,
    # so it can be recounted when a provisional year's calendar arrives.
    deadline_working_days: int | None = None
    deadline_counted_from: date | None = None
    deadline_provisional: bool = False
    milestones: tuple[Milestone, ...] = ()
    duplicate_override: bool = False  # the supervisor opened it despite a likely duplicate
    # The rules the case was opened under and keeps for its life (None: opened before
    # policies were recorded, under the built-in defaults): the policy file's version
    # name, the SHA-256 of the rules' content, and the unit class whose section applied.
    policy_version: str | None = None
    policy_hash: str | None = None
    policy_class: str | None = None


# -- responsibility, deadline, target ----------------------------------------------


class ResponsibilityAssigned(Event):
    """A new responsible cadre (责任人) within the same unit."""

    event_type: ClassVar[str] = "ResponsibilityAssigned"

    cadre_id: str
    previous_cadre_id: str
    reason: str


class ResponsibilityTransferred(Event):
    """The case moves to another responsible unit and cadre."""

    event_type: ClassVar[str] = "ResponsibilityTransferred"

    unit_id: str
    cadre_id: str
    previous_unit_id: str
    previous_cadre_id: str
    reason: str


class DeadlineSet(Event):
    """The deadline is corrected by a supervisor or recounted on a newly loaded calendar.

    Unlike an extension it moves the *original* deadline the archive judges by.
    """

    event_type: ClassVar[str] = "DeadlineSet"

    deadline: date
    previous_deadline: date
    reason: str
    deadline_working_days: int | None = None
    deadline_counted_from: date | None = None
    deadline_provisional: bool = False


class DeadlineExtended(Event):
    """The effect of a granted extension on the deadline (timers follow this)."""

    event_type: ClassVar[str] = "DeadlineExtended"

    deadline: date
    previous_deadline: date
    request_number: int


class TargetSet(Event):
    """整改目标 changed by a supervisor."""

    event_type: ClassVar[str] = "TargetSet"

    target: str


# -- the unit's work ---------------------------------------------------------------


class PlanSubmitted(Event):
    """整改方案."""

    event_type: ClassVar[str] = "PlanSubmitted"

    plan: str
    evidence: tuple[Evidence, ...] = ()


class ProgressReported(Event):
    """进展 with 佐证材料."""

    event_type: ClassVar[str] = "ProgressReported"

    text: str
    evidence: tuple[Evidence, ...] = ()
    percent_complete: int | None = None


class MilestoneDue(Event):
    """A long-term case's milestone reached its due date."""

    event_type: ClassVar[str] = "MilestoneDue"

    milestone_id: str
    due: date


class MilestoneReported(Event):
    """The unit reports a milestone done, with evidence."""

    event_type: ClassVar[str] = "MilestoneReported"

    milestone_id: str
    text: str
    evidence: tuple[Evidence, ...] = ()


class MilestonesSet(Event):
    """阶段节点 set or changed by a supervisor: ``milestones`` replaces the previous list.

    A milestone kept with the same id and date keeps its marks (due, warned, reported);
    one moved to another date starts again; one left out is gone.
    """

    event_type: ClassVar[str] = "MilestonesSet"

    milestones: tuple[Milestone, ...]
    previous_milestones: tuple[Milestone, ...] = ()
    reason: str


# -- system: reminders, lights, escalation -------------------------------------------


class ReminderSent(Event):
    """A reminder so many working days before the deadline."""

    event_type: ClassVar[str] = "ReminderSent"

    deadline: date
    working_days_before: int


class WarningRaised(Event):
    """黄灯: close to the deadline or behind a milestone."""

    event_type: ClassVar[str] = "WarningRaised"

    reason: WarningReason
    deadline: date
    milestone_id: str | None = None


class CaseOverdue(Event):
    """红灯: the deadline has passed without closure."""

    event_type: ClassVar[str] = "CaseOverdue"

    deadline: date


class CaseEscalated(Event):
    """One rung of the escalation ladder (1 催办 … 4 问责建议)."""

    event_type: ClassVar[str] = "CaseEscalated"

    level: EscalationLevel
    deadline: date
    working_days_overdue: int


# -- extensions ----------------------------------------------------------------------


class ExtensionRequested(Event):
    """延期申请."""

    event_type: ClassVar[str] = "ExtensionRequested"

    request_number: int  # 1, 2, … within the case
    reason: str
    proposed_deadline: date
    current_deadline: date


class ExtensionGranted(Event):
    event_type: ClassVar[str] = "ExtensionGranted"

    request_number: int
    new_deadline: date
    comment: str = ""


class ExtensionDenied(Event):
    event_type: ClassVar[str] = "ExtensionDenied"

    request_number: int
    reason: str


# -- closure and after -----------------------------------------------------------------


class ClosureRequested(Event):
    """申请销号."""

    event_type: ClassVar[str] = "ClosureRequested"

    summary: str
    evidence: tuple[Evidence, ...] = ()


class ClosureVerified(Event):
    """验收通过; always followed by ``CaseClosed``."""

    event_type: ClassVar[str] = "ClosureVerified"

    comment: str = ""


class ClosureRejected(Event):
    """退回: back to work, the deadline unchanged."""

    event_type: ClassVar[str] = "ClosureRejected"

    reason: str


class CaseClosed(Event):
    """销号."""

    event_type: ClassVar[str] = "CaseClosed"

    deadline: date  # the deadline in force at closure
    original_deadline: date  # the deadline before any extension


class SatisfactionRecorded(Event):
    """群众满意度回访."""

    event_type: ClassVar[str] = "SatisfactionRecorded"

    score_percent: int  # 0–100
    respondents: int | None = None
    note: str = ""


class CaseReopened(Event):
    """回头看: the problem came back within the look-back window."""

    event_type: ClassVar[str] = "CaseReopened"

    reason: str
    deadline: date
    deadline_working_days: int | None = None
    deadline_counted_from: date | None = None
    deadline_provisional: bool = False


class CaseWithdrawn(Event):
    """撤销: the finding proved wrong; the history stays, the archive drops it."""

    event_type: ClassVar[str] = "CaseWithdrawn"

    reason: str


class CaseMergedInto(CaseWithdrawn):
    """合并案件: the same problem as another open case of the unit; this case ends
    merged into it. A kind of withdrawal, so every figure of the archive leaves it (the
    problem counts once, on the surviving case); its history stays."""

    event_type: ClassVar[str] = "CaseMergedInto"

    into_case_id: str


class CaseAbsorbed(Event):
    """合并案件, the surviving side: another open case of the unit was merged into this
    one; its findings join this case's (its history stays under its own id)."""

    event_type: ClassVar[str] = "CaseAbsorbed"

    absorbed_case_id: str
    reason: str
    findings: tuple[MergedFinding, ...] = ()


class AccountabilityRecorded(Event):
    """问责 decided by a supervisor."""

    event_type: ClassVar[str] = "AccountabilityRecorded"

    cadre_id: str
    action: AccountabilityAction
    reason: str
    escalation_level: int  # the highest level reached when decided (0 = none)
    by_decision: bool = False  # decided without a level-4 recommendation


class ToleranceApplied(Event):
    """容错免责: an exemption from accountability, with its reason."""

    event_type: ClassVar[str] = "ToleranceApplied"

    cadre_id: str
    reason: str
    escalation_level: int
    by_decision: bool = False


EVENT_TYPES: dict[str, type[Event]] = {
    cls.event_type: cls
    for cls in (
        FindingRecorded,
        DuplicateFindingMerged,
        CaseOpened,
        ResponsibilityAssigned,
        ResponsibilityTransferred,
        DeadlineSet,
        DeadlineExtended,
        TargetSet,
        PlanSubmitted,
        ProgressReported,
        MilestoneDue,
        MilestoneReported,
        MilestonesSet,
        ReminderSent,
        WarningRaised,
        CaseOverdue,
        CaseEscalated,
        ExtensionRequested,
        ExtensionGranted,
        ExtensionDenied,
        ClosureRequested,
        ClosureVerified,
        ClosureRejected,
        CaseClosed,
        SatisfactionRecorded,
        CaseReopened,
        CaseWithdrawn,
        CaseMergedInto,
        CaseAbsorbed,
        AccountabilityRecorded,
        ToleranceApplied,
    )
}


def event_class(event_type: str) -> type[Event]:
    try:
        return EVENT_TYPES[event_type]
    except KeyError:
        raise KeyError(f"unknown event type {event_type!r}") from None


def _stored_class(event_type: str, schema_version: int) -> type[Event]:
    cls = event_class(event_type)
    if schema_version != cls.schema_version:
        raise ValueError(
            f"{event_type} schema version {schema_version} is not {cls.schema_version}"
        )
    return cls


def event_from_json(event_type: str, schema_version: int, data: dict[str, Any]) -> Event:
    """Load a stored event. Only schema version 1 exists so far; later versions upcast here."""
    return _stored_class(event_type, schema_version).model_validate(data)


def event_from_json_text(event_type: str, schema_version: int, text: str | bytes) -> Event:
    """``event_from_json`` of the JSON text itself: one pass of pydantic's parser and
    validator, without a ``dict`` in between (what a projection's rebuild reads; the
    model's validator called directly, as ``model_validate_json`` does)."""
    reader = _JSON_READERS.get(event_type)
    if reader is None or reader[0] != schema_version:  # _stored_class raises for these
        cls = _stored_class(event_type, schema_version)
        reader = cls.schema_version, cls.__pydantic_validator__.validate_json
    event: Event = reader[1](text)
    return event


# Each event type's schema version and JSON validator, found with one lookup (a rebuild
# reads every event of the log through ``event_from_json_text``).
_JSON_READERS: dict[str, tuple[int, Callable[[str | bytes], Any]]] = {
    name: (cls.schema_version, cls.__pydantic_validator__.validate_json)
    for name, cls in EVENT_TYPES.items()
}


class _OccurredAt(BaseModel):
    """Only the business time of a stored event: the other fields are skipped unread."""

    occurred_at: datetime


def occurred_at_from_json_text(event_type: str, schema_version: int, text: str | bytes) -> datetime:
    """``event_from_json_text(...).occurred_at`` (the same parser and validator of the
    field) without validating the event's other fields: for a reader that needs only
    when an event happened (the archive's withdrawn cases). The log holds only events
    the store serialised from their models, which validate."""
    _stored_class(event_type, schema_version)
    return _OccurredAt.model_validate_json(text).occurred_at


# The validator of ``Event.occurred_at`` (a plain ``datetime`` field, no constraints).
_OCCURRED_AT = TypeAdapter(datetime)


# (type, schema version) of every event a store can hold today (``_stored_class``).
_CURRENT = frozenset((name, cls.schema_version) for name, cls in EVENT_TYPES.items())


def occurred_at_from_text(event_type: str, schema_version: int, text: str) -> datetime:
    """``occurred_at_from_json_text`` given only the text of the stored event's
    ``occurred_at`` (what PostgreSQL's ``data->>'occurred_at'`` returns): the same
    validator of the field, reading a string the way it reads one in JSON. For a
    reader that asks the database for nothing but when an event happened (a build
    calls it for most events of the log, hence the checks by hand)."""
    if (event_type, schema_version) not in _CURRENT:
        _stored_class(event_type, schema_version)  # raises: unknown type or version
    return _read_occurred_at(text)


# What ``_OCCURRED_AT.validate_strings`` calls, without its wrapper's keyword handling.
_read_occurred_at: Callable[[str], datetime] = _OCCURRED_AT.validator.validate_strings  # type: ignore[assignment]
