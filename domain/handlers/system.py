"""The workflow's timers: reminders, warnings, overdue, escalation, milestone dues.

Each is refused when it is not due yet or was already done for the current
deadline, so a timer that fires twice (a retry, a replay after continue-as-new)
writes nothing twice.
"""

from __future__ import annotations

from domain import guards
from domain.commands import Escalate, MarkMilestoneDue, MarkOverdue, RaiseWarning, SendReminder
from domain.context import Context
from domain.errors import InvalidCommand, InvalidState
from domain.events import (
    CaseEscalated,
    CaseOverdue,
    Event,
    MilestoneDue,
    ReminderSent,
    WarningRaised,
)
from domain.state import CaseState, MilestoneState
from domain.vocabulary import CaseStatus, EscalationLevel, WarningReason

_OPEN = frozenset({CaseStatus.OPEN})


def _not_due(what_zh: str, what_en: str) -> InvalidState:
    return InvalidState("not_due", f"{what_zh}尚未到时", f"{what_en} is not due yet")


def _done(what_zh: str, what_en: str) -> InvalidState:
    return InvalidState("already_done", f"{what_zh}已办理", f"{what_en} was already done")


def send_reminder(state: CaseState | None, cmd: SendReminder, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    guards.ensure_active(case)
    assert case.deadline is not None
    if cmd.working_days_before in case.reminders_sent:
        raise _done("该提醒", "this reminder")
    remaining = ctx.policy.working_calendar().working_days_between(ctx.today, case.deadline)
    if ctx.today > case.deadline:
        raise InvalidState("case_overdue", "已逾期，不再提醒", "the case is overdue; no reminders")
    if remaining > cmd.working_days_before:
        raise _not_due("该提醒", "this reminder")
    return [
        ReminderSent(
            occurred_at=ctx.now,
            deadline=case.deadline,
            working_days_before=cmd.working_days_before,
        )
    ]


def _milestone(case: CaseState, milestone_id: str | None) -> MilestoneState:
    milestone = case.milestone(milestone_id) if milestone_id else None
    if milestone is None:
        raise InvalidCommand(
            "unknown_milestone",
            f"本案件没有节点 {milestone_id}",
            f"this case has no milestone {milestone_id}",
        )
    return milestone


def raise_warning(state: CaseState | None, cmd: RaiseWarning, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    guards.ensure_active(case)
    assert case.deadline is not None
    if cmd.reason is WarningReason.BEHIND_MILESTONE:
        milestone = _milestone(case, cmd.milestone_id)
        if milestone.warned:
            raise _done("该节点预警", "this milestone warning")
        if milestone.reported or ctx.today <= milestone.due:
            raise _not_due("该节点预警", "this milestone warning")
    else:
        if case.warned or case.overdue:
            raise _done("临期预警", "the deadline warning")
        remaining = ctx.policy.working_calendar().working_days_between(ctx.today, case.deadline)
        if remaining > ctx.policy.yellow_working_days:
            raise _not_due("临期预警", "the deadline warning")
    return [
        WarningRaised(
            occurred_at=ctx.now,
            reason=cmd.reason,
            deadline=case.deadline,
            milestone_id=cmd.milestone_id if cmd.reason is WarningReason.BEHIND_MILESTONE else None,
        )
    ]


def mark_overdue(state: CaseState | None, cmd: MarkOverdue, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    # While closure awaits verification the unit has done its part: no red light.
    guards.ensure_status(case, _OPEN, "case_not_open")
    assert case.deadline is not None
    if case.overdue:
        raise _done("逾期标记", "marking overdue")
    if ctx.today <= case.deadline:
        raise _not_due("逾期标记", "marking overdue")
    return [CaseOverdue(occurred_at=ctx.now, deadline=case.deadline)]


def escalate(state: CaseState | None, cmd: Escalate, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    guards.ensure_status(case, _OPEN, "case_not_open")
    assert case.deadline is not None
    if not case.overdue:
        raise InvalidState("not_overdue", "案件未逾期，不能升级督办", "the case is not overdue")
    if cmd.level <= case.escalation_level:
        raise _done(f"第 {cmd.level} 级督办", f"escalation level {cmd.level}")
    if cmd.level != case.escalation_level + 1:
        raise InvalidCommand(
            "escalation_out_of_order",
            f"督办须逐级升级，当前为第 {case.escalation_level} 级",
            f"escalation goes one level at a time; the case is at level {case.escalation_level}",
        )
    step = ctx.policy.escalation_step(cmd.level)
    if step is None:
        raise InvalidCommand(
            "escalation_level_not_in_policy",
            f"督办规则中没有第 {cmd.level} 级",
            f"the escalation policy has no level {cmd.level}",
        )
    overdue_days = ctx.policy.working_calendar().working_days_between(case.deadline, ctx.today)
    if overdue_days < step.working_days_after_deadline:
        raise _not_due(f"第 {cmd.level} 级督办", f"escalation level {cmd.level}")
    return [
        CaseEscalated(
            occurred_at=ctx.now,
            level=EscalationLevel(cmd.level),
            deadline=case.deadline,
            working_days_overdue=overdue_days,
        )
    ]


def milestone_due(state: CaseState | None, cmd: MarkMilestoneDue, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    guards.ensure_active(case)
    milestone = _milestone(case, cmd.milestone_id)
    if milestone.due_marked:
        raise _done("节点到期标记", "marking the milestone due")
    if ctx.today < milestone.due:
        raise _not_due("节点到期标记", "marking the milestone due")
    return [MilestoneDue(occurred_at=ctx.now, milestone_id=cmd.milestone_id, due=milestone.due)]
