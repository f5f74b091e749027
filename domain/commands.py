"""Commands: what a person (or the workflow's clock) asks for, in the imperative.

Every command carries its actor; ``decide`` checks the actor's role and unit.
Human commands are issued through the API; system commands (``SYSTEM_COMMANDS``)
only by the workflow, from the schedule in ``domain.schedule``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain.values import Evidence, MergedFinding, Milestone
from domain.vocabulary import AccountabilityAction, Actor, CaseKind, Source, WarningReason
from domain.workdays import CalendarYear

__all__ = [
    "HUMAN_COMMANDS",
    "SYSTEM_COMMANDS",
    "AbsorbCase",
    "ApplyTolerance",
    "AssignResponsibility",
    "Command",
    "DenyExtension",
    "Escalate",
    "FindingCommand",
    "GrantExtension",
    "MarkMilestoneDue",
    "MarkOverdue",
    "MergeDuplicateFinding",
    "MergeIntoCase",
    "NotBlank",
    "OpenCase",
    "RaiseWarning",
    "RecomputeDeadline",
    "RecordAccountability",
    "RecordSatisfaction",
    "RejectClosure",
    "ReopenCase",
    "ReportMilestone",
    "ReportProgress",
    "RequestClosure",
    "RequestExtension",
    "SendReminder",
    "SetDeadline",
    "SetMilestones",
    "SetTarget",
    "SubmitPlan",
    "Title",
    "TransferResponsibility",
    "VerifyClosure",
    "WithdrawCase",
]


def _not_blank(value: str) -> str:
    """Text that is required is refused when it is only spaces, as when it is empty."""
    if not value.strip():
        raise ValueError("must not be blank (只有空白字符)")
    return value


NotBlank = AfterValidator(_not_blank)
Id = Annotated[str, Field(min_length=1, max_length=64), NotBlank]
Reason = Annotated[str, Field(min_length=1, max_length=2_000), NotBlank]
Text = Annotated[str, Field(min_length=1, max_length=10_000), NotBlank]
Title = Annotated[str, Field(min_length=1, max_length=200), NotBlank]


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    actor: Actor


# -- supervisor -------------------------------------------------------------------


class FindingCommand(Command):
    """The fields of a finding, shared by the commands that record or merge one."""

    finding_id: Id
    source: Source
    title: Title
    description: str = Field(default="", max_length=10_000)
    category: str | None = Field(default=None, max_length=64)
    severity: str | None = Field(default=None, max_length=32)


class OpenCase(FindingCommand):
    """Record a finding (unless already recorded) and open its rectification case.

    Without a deadline, the policy's default for the kind is counted in working
    days from today. A long-term case needs at least one milestone.
    """

    unit_id: Id
    cadre_id: Id
    kind: CaseKind = CaseKind.TIME_LIMITED
    deadline: date | None = None
    target: str = Field(default="", max_length=2_000)
    milestones: tuple[Milestone, ...] = ()
    override_duplicate: bool = False  # open even though duplicates.find_duplicate matched


class MergeDuplicateFinding(FindingCommand):
    """Merge a new finding into this open case instead of opening another (减负)."""

    similarity: str | None = Field(default=None, pattern=r"^(0(\.\d+)?|1(\.0+)?)$")


class MergeIntoCase(Command):
    """合并案件: this open case is the same problem as another open case of its unit;
    it ends merged into that one (its timers stop, the archive counts the problem once)."""

    into_case_id: Id
    reason: Reason


class AbsorbCase(Command):
    """The surviving side of ``MergeIntoCase``, sent first by the same request: the
    absorbed case's findings join this case."""

    absorbed_case_id: Id
    absorbed_unit_id: Id
    reason: Reason
    findings: tuple[MergedFinding, ...] = ()


class AssignResponsibility(Command):
    cadre_id: Id
    reason: Reason


class TransferResponsibility(Command):
    unit_id: Id
    cadre_id: Id
    reason: Reason


class SetDeadline(Command):
    deadline: date
    reason: Reason


class SetTarget(Command):
    target: Annotated[str, Field(min_length=1, max_length=2_000), NotBlank]


class SetMilestones(Command):
    """Set or change a long-term case's milestones (阶段节点): the list replaces the
    current one. A reported milestone stays as it was; a new or moved one is due after
    today; all are due by the deadline, in increasing order of their dates."""

    milestones: tuple[Milestone, ...]
    reason: Reason


class GrantExtension(Command):
    """Grant the pending request; ``new_deadline`` defaults to the proposed date."""

    new_deadline: date | None = None
    comment: str = Field(default="", max_length=2_000)


class DenyExtension(Command):
    reason: Reason


class VerifyClosure(Command):
    comment: str = Field(default="", max_length=2_000)


class RejectClosure(Command):
    reason: Reason


class RecordSatisfaction(Command):
    score_percent: int = Field(ge=0, le=100)
    respondents: int | None = Field(default=None, ge=1)
    note: str = Field(default="", max_length=2_000)


class ReopenCase(Command):
    """Without a deadline, the kind's default is counted from today."""

    reason: Reason
    deadline: date | None = None


class WithdrawCase(Command):
    reason: Reason


class RecordAccountability(Command):
    """``by_decision``: the supervisor decides without a level-4 recommendation."""

    action: AccountabilityAction
    reason: Reason
    cadre_id: str | None = Field(default=None, min_length=1, max_length=64)  # default: 责任人
    by_decision: bool = False


class ApplyTolerance(Command):
    """容错免责, under the same condition as accountability."""

    reason: Reason
    cadre_id: str | None = Field(default=None, min_length=1, max_length=64)
    by_decision: bool = False


# -- unit ---------------------------------------------------------------------------


class SubmitPlan(Command):
    plan: Text
    evidence: tuple[Evidence, ...] = ()


class ReportProgress(Command):
    text: Text
    evidence: tuple[Evidence, ...] = ()
    percent_complete: int | None = Field(default=None, ge=0, le=100)


class ReportMilestone(Command):
    milestone_id: Id
    text: Text
    evidence: tuple[Evidence, ...] = ()


class RequestExtension(Command):
    reason: Reason
    proposed_deadline: date


class RequestClosure(Command):
    summary: Text
    evidence: tuple[Evidence, ...] = ()


# -- system (the workflow's timers) ---------------------------------------------------


class SendReminder(Command):
    working_days_before: int = Field(ge=0)


class RaiseWarning(Command):
    reason: WarningReason = WarningReason.NEAR_DEADLINE
    milestone_id: str | None = None


class MarkOverdue(Command):
    pass


class Escalate(Command):
    level: int = Field(ge=1, le=4)


class MarkMilestoneDue(Command):
    milestone_id: Id


class RecomputeDeadline(Command):
    """Recount a provisional deadline after the year's calendar was loaded.

    ``years``: the calendar years the operator added (from the policy file); the case
    keeps its rules and adds these years to its calendar.
    """

    years: tuple[CalendarYear, ...] = ()


SYSTEM_COMMANDS: tuple[type[Command], ...] = (
    SendReminder,
    RaiseWarning,
    MarkOverdue,
    Escalate,
    MarkMilestoneDue,
    RecomputeDeadline,
)
HUMAN_COMMANDS: tuple[type[Command], ...] = (
    OpenCase,
    MergeDuplicateFinding,
    MergeIntoCase,
    AbsorbCase,
    AssignResponsibility,
    TransferResponsibility,
    SetDeadline,
    SetTarget,
    SetMilestones,
    GrantExtension,
    DenyExtension,
    VerifyClosure,
    RejectClosure,
    RecordSatisfaction,
    ReopenCase,
    WithdrawCase,
    RecordAccountability,
    ApplyTolerance,
    SubmitPlan,
    ReportProgress,
    ReportMilestone,
    RequestExtension,
    RequestClosure,
)
