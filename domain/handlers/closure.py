"""Closure and after: request, verify or reject, satisfaction, look-back, accountability."""

from __future__ import annotations

from datetime import timedelta

from domain import guards
from domain.chinese_dates import zh_date
from domain.commands import (
    ApplyTolerance,
    RecordAccountability,
    RecordSatisfaction,
    RejectClosure,
    ReopenCase,
    RequestClosure,
    VerifyClosure,
)
from domain.context import Context
from domain.errors import InvalidState
from domain.events import (
    AccountabilityRecorded,
    CaseClosed,
    CaseReopened,
    ClosureRejected,
    ClosureRequested,
    ClosureVerified,
    Event,
    SatisfactionRecorded,
    ToleranceApplied,
)
from domain.state import CaseState
from domain.vocabulary import CaseStatus, EscalationLevel

_OPEN = frozenset({CaseStatus.OPEN})
_PENDING = frozenset({CaseStatus.CLOSURE_PENDING})
_CLOSED = frozenset({CaseStatus.CLOSED})


def request(state: CaseState | None, cmd: RequestClosure, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    guards.ensure_status(case, _OPEN, "case_not_open")
    if not case.plan_submitted:
        raise InvalidState(
            "plan_required", "提交整改方案后才能申请销号", "closure needs a submitted plan first"
        )
    return [ClosureRequested(occurred_at=ctx.now, summary=cmd.summary, evidence=cmd.evidence)]


def verify(state: CaseState | None, cmd: VerifyClosure, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    guards.ensure_status(case, _PENDING, "no_pending_closure")
    assert case.deadline is not None
    assert case.original_deadline is not None
    return [
        ClosureVerified(occurred_at=ctx.now, comment=cmd.comment),
        CaseClosed(
            occurred_at=ctx.now, deadline=case.deadline, original_deadline=case.original_deadline
        ),
    ]


def reject(state: CaseState | None, cmd: RejectClosure, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    guards.ensure_status(case, _PENDING, "no_pending_closure")
    return [ClosureRejected(occurred_at=ctx.now, reason=cmd.reason)]


def satisfaction(state: CaseState | None, cmd: RecordSatisfaction, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    guards.ensure_status(case, _CLOSED, "satisfaction_before_closure")
    return [
        SatisfactionRecorded(
            occurred_at=ctx.now,
            score_percent=cmd.score_percent,
            respondents=cmd.respondents,
            note=cmd.note,
        )
    ]


def reopen(state: CaseState | None, cmd: ReopenCase, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    guards.ensure_status(case, _CLOSED, "reopen_only_closed")
    assert case.closed_at is not None
    assert case.kind is not None
    window_end = ctx.policy.today(case.closed_at) + timedelta(days=ctx.policy.look_back_days)
    if ctx.today > window_end:
        raise InvalidState(
            "look_back_expired",
            f"回头看期限已于 {zh_date(window_end)} 届满，不能重新打开",
            f"the look-back window ended on {window_end}",
        )
    if cmd.deadline is not None:
        guards.ensure_future_deadline(cmd.deadline, ctx.today)
        return [CaseReopened(occurred_at=ctx.now, reason=cmd.reason, deadline=cmd.deadline)]
    counted = ctx.policy.default_deadline(case.kind, ctx.today)
    return [
        CaseReopened(
            occurred_at=ctx.now,
            reason=cmd.reason,
            deadline=counted.date,
            deadline_working_days=ctx.policy.deadlines.working_days(case.kind),
            deadline_counted_from=ctx.today,
            deadline_provisional=counted.provisional,
        )
    ]


def _ensure_accountability_due(case: CaseState, by_decision: bool) -> None:
    """Only after the ladder's accountability recommendation, or on a supervisor's decision."""
    if case.status in (CaseStatus.RECORDED, CaseStatus.WITHDRAWN):
        raise InvalidState(
            "case_not_opened_or_withdrawn",
            "未立项或已撤销的案件不能问责或免责",
            "no accountability on a case that was never opened or was withdrawn",
        )
    if (
        not by_decision
        and case.highest_escalation_level < EscalationLevel.ACCOUNTABILITY_RECOMMENDED
    ):
        raise InvalidState(
            "accountability_not_due",
            "案件未升级至问责建议，须由督查部门作出专门决定",
            "the case has not reached an accountability recommendation (level 4); "
            "a supervisor's explicit decision is needed",
        )


def accountability(state: CaseState | None, cmd: RecordAccountability, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    _ensure_accountability_due(case, cmd.by_decision)
    return [
        AccountabilityRecorded(
            occurred_at=ctx.now,
            cadre_id=cmd.cadre_id or case.cadre_id,
            action=cmd.action,
            reason=cmd.reason,
            escalation_level=case.highest_escalation_level,
            by_decision=cmd.by_decision,
        )
    ]


def tolerance(state: CaseState | None, cmd: ApplyTolerance, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    _ensure_accountability_due(case, cmd.by_decision)
    return [
        ToleranceApplied(
            occurred_at=ctx.now,
            cadre_id=cmd.cadre_id or case.cadre_id,
            reason=cmd.reason,
            escalation_level=case.highest_escalation_level,
            by_decision=cmd.by_decision,
        )
    ]
