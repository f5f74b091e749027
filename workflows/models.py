"""Workflow inputs, update requests and query results: the workflow's public surface.

Every field added here later needs a default, so running cases keep loading.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from domain.commands import Command, OpenCase
from domain.policy import Policy
from domain.state import CaseState
from domain.vocabulary import TrafficLight

__all__ = [
    "CarriedState",
    "CaseOverview",
    "CaseWorkflowInput",
    "CommandRequest",
    "DecisionWatch",
    "NextTimer",
    "RequestContext",
    "TimerAction",
    "case_workflow_id",
]

C = TypeVar("C", bound=Command)


def case_workflow_id(finding_id: str) -> str:
    return f"case-{finding_id}"


class RequestContext(BaseModel):
    """Where a command came from, for the events' metadata."""

    request_id: str | None = None
    correlation_id: str | None = None
    # The caller's Idempotency-Key (``api.idempotency.command_key``): the workflow
    # applies a command with a given key once, in whichever run of the case it arrives.
    command_key: str | None = None


class CommandRequest(BaseModel, Generic[C]):
    """The input of every command update: one domain command and where it came from."""

    command: C
    context: RequestContext = Field(default_factory=RequestContext)


class DecisionWatch(BaseModel):
    """A level-4 accountability recommendation that waits for a supervisor's decision.

    While no accountability or tolerance decision follows it, the supervisor is
    reminded every few working days (notifications only: the system never decides).
    """

    model_config = ConfigDict(frozen=True)

    since: date  # business date of the level-4 escalation
    escalation_event_id: str  # the CaseEscalated event; the reminders' idempotency keys
    decisions_before: int  # accountability + tolerance decisions when level 4 was reached
    reminders_sent: int = 0


class CarriedState(BaseModel):
    """What a run hands to the next one when it continues as new."""

    state: CaseState  # its ``version`` is the stream version
    decision_watch: DecisionWatch | None = None
    # Keys of the commands already applied (the newest last): Temporal forgets update
    # ids at continue-as-new, so a repeat in the next run is recognised by these.
    applied_command_keys: list[str] = Field(default_factory=list)


class CaseWorkflowInput(BaseModel):
    command: OpenCase
    context: RequestContext = Field(default_factory=RequestContext)
    # The case's rules, fixed when it starts so that replays see the same policy;
    # None means the domain's DEFAULT_POLICY.
    policy: Policy | None = None
    # Set by continue-as-new only: the case is already open, ``command`` is not re-run.
    carried: CarriedState | None = None
    # Continue as new once a run's history holds this many events (or when Temporal
    # suggests it, whichever comes first).
    history_limit: int = Field(default=2_000, ge=10)
    decision_reminder_working_days: int = Field(default=5, ge=1, le=250)


class TimerAction(StrEnum):
    REMINDER = "reminder"  # ReminderSent
    WARNING = "warning"  # WarningRaised (near the deadline)
    MILESTONE_DUE = "milestone_due"  # MilestoneDue
    MILESTONE_WARNING = "milestone_warning"  # WarningRaised (behind a milestone)
    OVERDUE = "overdue"  # CaseOverdue
    ESCALATION = "escalation"  # CaseEscalated
    DECISION_REMINDER = "decision_reminder"  # notification only
    LOOK_BACK_END = "look_back_end"  # the workflow completes


class NextTimer(BaseModel):
    """The next thing the case's clock will do, and when."""

    at: datetime
    action: TimerAction
    due: date  # the business date it belongs to
    working_days_before: int | None = None
    level: int | None = None
    milestone_id: str | None = None


class CaseOverview(BaseModel):
    """The ``overview`` query's answer.

    ``light`` is as of ``as_of``, the workflow's clock at its last task (a query cannot
    read the wall clock); every timer wakes the workflow, so it is stale only while
    nothing is due, e.g. a closure awaiting verification past the deadline. For a
    light "now", call ``domain.traffic_light.traffic_light(state, now)``.
    """

    state: CaseState | None
    as_of: datetime
    light: TrafficLight
    next_timer: NextTimer | None
    decision_pending: bool = False  # a level-4 recommendation awaits a supervisor's decision
