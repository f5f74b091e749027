"""The unit's work: plan, progress, milestones; extension requests and their decision."""

from __future__ import annotations

from domain import guards
from domain.chinese_dates import zh_date
from domain.commands import (
    DenyExtension,
    GrantExtension,
    ReportMilestone,
    ReportProgress,
    RequestExtension,
    SubmitPlan,
)
from domain.context import Context
from domain.errors import InvalidCommand, InvalidState
from domain.events import (
    DeadlineExtended,
    Event,
    ExtensionDenied,
    ExtensionGranted,
    ExtensionRequested,
    MilestoneReported,
    PlanSubmitted,
    ProgressReported,
)
from domain.state import CaseState, PendingExtension
from domain.vocabulary import CaseStatus

_OPEN = frozenset({CaseStatus.OPEN})


def submit_plan(state: CaseState | None, cmd: SubmitPlan, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    guards.ensure_status(case, _OPEN, "case_not_open")
    return [PlanSubmitted(occurred_at=ctx.now, plan=cmd.plan, evidence=cmd.evidence)]


def report_progress(state: CaseState | None, cmd: ReportProgress, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    guards.ensure_active(case)
    return [
        ProgressReported(
            occurred_at=ctx.now,
            text=cmd.text,
            evidence=cmd.evidence,
            percent_complete=cmd.percent_complete,
        )
    ]


def report_milestone(state: CaseState | None, cmd: ReportMilestone, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    guards.ensure_active(case)
    milestone = case.milestone(cmd.milestone_id)
    if milestone is None:
        raise InvalidCommand(
            "unknown_milestone",
            f"本案件没有节点 {cmd.milestone_id}",
            f"this case has no milestone {cmd.milestone_id}",
        )
    if milestone.reported:
        raise InvalidState(
            "milestone_already_reported", "该节点已报送", "the milestone is already reported"
        )
    return [
        MilestoneReported(
            occurred_at=ctx.now,
            milestone_id=cmd.milestone_id,
            text=cmd.text,
            evidence=cmd.evidence,
        )
    ]


def request_extension(state: CaseState | None, cmd: RequestExtension, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    guards.ensure_status(case, _OPEN, "case_not_open")
    assert case.deadline is not None
    # The deadline day itself is still "before the deadline": it is the last day to act.
    if ctx.today > case.deadline:
        raise InvalidState(
            "extension_after_deadline",
            f"延期申请须在整改期限 {zh_date(case.deadline)} 之前提出",
            f"an extension must be requested by the deadline {case.deadline}",
        )
    if case.pending_extension is not None:
        raise InvalidState(
            "extension_pending", "已有待审批的延期申请", "an extension request is already pending"
        )
    if case.extensions_granted >= ctx.policy.extension_cap:
        raise InvalidState(
            "extension_cap_reached",
            f"本案件延期已达上限（{ctx.policy.extension_cap} 次）",
            f"the case has reached its cap of {ctx.policy.extension_cap} extensions",
        )
    if cmd.proposed_deadline <= case.deadline:
        raise InvalidCommand(
            "extension_not_later",
            f"申请的期限须晚于现期限 {zh_date(case.deadline)}",
            f"the proposed deadline must be after the current deadline {case.deadline}",
        )
    return [
        ExtensionRequested(
            occurred_at=ctx.now,
            request_number=case.extensions_requested + 1,
            reason=cmd.reason,
            proposed_deadline=cmd.proposed_deadline,
            current_deadline=case.deadline,
        )
    ]


def _pending(case: CaseState) -> PendingExtension:
    guards.ensure_active(case)
    if case.pending_extension is None:
        raise InvalidState(
            "no_pending_extension", "没有待审批的延期申请", "there is no pending extension request"
        )
    return case.pending_extension


def grant_extension(state: CaseState | None, cmd: GrantExtension, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    pending = _pending(case)
    assert case.deadline is not None
    if case.extensions_granted >= ctx.policy.extension_cap:
        raise InvalidState(
            "extension_cap_reached",
            f"本案件延期已达上限（{ctx.policy.extension_cap} 次）",
            f"the case has reached its cap of {ctx.policy.extension_cap} extensions",
        )
    new_deadline = cmd.new_deadline or pending.proposed_deadline
    if new_deadline <= case.deadline or new_deadline <= ctx.today:
        raise InvalidCommand(
            "extension_not_later",
            f"延期后的期限须晚于现期限 {zh_date(case.deadline)} 和今天",
            f"the new deadline must be after the current deadline {case.deadline} and today",
        )
    return [
        ExtensionGranted(
            occurred_at=ctx.now,
            request_number=pending.request_number,
            new_deadline=new_deadline,
            comment=cmd.comment,
        ),
        DeadlineExtended(
            occurred_at=ctx.now,
            deadline=new_deadline,
            previous_deadline=case.deadline,
            request_number=pending.request_number,
        ),
    ]


def deny_extension(state: CaseState | None, cmd: DenyExtension, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    pending = _pending(case)
    return [
        ExtensionDenied(
            occurred_at=ctx.now, request_number=pending.request_number, reason=cmd.reason
        )
    ]
