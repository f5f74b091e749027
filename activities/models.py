"""Inputs and results of activities: one pydantic model in, one out."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AppendEventsInput",
    "AppendEventsResult",
    "Audience",
    "EventToAppend",
    "NotificationKind",
    "NotificationRequest",
    "NotificationResult",
    "Recipient",
]


class EventToAppend(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: str  # from workflow.uuid4(): a retried activity carries the same ids
    type: str
    schema_version: int = 1
    data: dict[str, Any]
    metadata: dict[str, Any] = Field(default_factory=dict)


class AppendEventsInput(BaseModel):
    stream_id: str
    expected_version: int = Field(ge=0)
    events: list[EventToAppend] = Field(min_length=1)
    stream_type: str = "case"


class AppendEventsResult(BaseModel):
    stream_id: str
    last_version: int
    head_hash: str  # hex
    already_stored: bool


class NotificationKind(StrEnum):
    REMINDER = "reminder"  # 提醒: so many working days before the deadline
    WARNING = "warning"  # 黄灯预警: close to the deadline
    MILESTONE_DUE = "milestone_due"
    MILESTONE_BEHIND = "milestone_behind"  # a milestone's day passed without its report
    OVERDUE = "overdue"  # 红灯
    ESCALATION = "escalation"  # 催办 / 督办 / 挂牌督办 / 问责建议, by level
    DECISION_REMINDER = "decision_reminder"  # level 4 still waits for a decision
    # People's steps (a person acted; the other side is told).
    EXTENSION_REQUESTED = "extension_requested"  # 延期申请: to the supervising side
    EXTENSION_GRANTED = "extension_granted"  # to the unit
    EXTENSION_DENIED = "extension_denied"  # to the unit
    CLOSURE_REQUESTED = "closure_requested"  # 申请销号, waits for verification: supervising side
    CLOSURE_REJECTED = "closure_rejected"  # 退回: to the unit
    CLOSURE_VERIFIED = "closure_verified"  # 验收通过: to the unit
    REASSIGNED = "reassigned"  # responsibility moved to another unit: both units


class Audience(StrEnum):
    RESPONSIBLE = "responsible"  # the responsible unit and its responsible cadre (责任人)
    UNIT_LEADERSHIP = "unit_leadership"  # the unit's leader
    SUPERVISOR = "supervisor"  # the supervising (organization) department
    LEADERSHIP = "leadership"  # the leadership above, for listed supervision and level 4


class Recipient(BaseModel):
    model_config = ConfigDict(frozen=True)

    audience: Audience
    unit_id: str | None = None  # None: resolved by the sink from the case (the unit tree)
    cadre_id: str | None = None


class NotificationRequest(BaseModel):
    """One notice; a sink delivers each ``idempotency_key`` at most once."""

    idempotency_key: str  # the causing event's id (plus a sequence for repeats)
    case_id: str
    workflow_id: str
    kind: NotificationKind
    recipients: tuple[Recipient, ...] = Field(min_length=1)
    deadline: date | None = None
    # The deadline was counted on a provisional calendar year (no official holidays yet).
    deadline_provisional: bool = False
    level: int | None = None
    milestone_id: str | None = None
    occurred_at: datetime
    # Facts as of the moment the notice was made (on the case's own policy and
    # calendar), so a late or retried activity never reports a later truth.
    unit_id: str | None = None  # the case's unit then (a reassignment moves it)
    light: str | None = None  # 亮灯 then: green | yellow | red | grey
    working_days_left: int | None = None  # (today, deadline] on the case's calendar
    working_days_overdue: int | None = None
    detail: dict[str, str] = Field(default_factory=dict)  # e.g. a reason, a proposed date


class NotificationResult(BaseModel):
    """What the activity did: it queues, it never delivers (the dispatcher does)."""

    idempotency_key: str
    # queued: rows written now; already_queued: a retry, nothing new; unaddressed: some
    # recipient has no contact (written as visible ``unaddressed`` rows); no_case.
    outcome: str = "queued"
    rows: int = 0
    unaddressed: int = 0
