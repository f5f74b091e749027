"""Recording, opening, merging, responsibility, deadline, target, withdrawal."""

from __future__ import annotations

from datetime import date

from domain import guards
from domain.commands import (
    AssignResponsibility,
    MergeDuplicateFinding,
    OpenCase,
    RecomputeDeadline,
    SetDeadline,
    SetTarget,
    TransferResponsibility,
    WithdrawCase,
)
from domain.context import Context
from domain.errors import InvalidCommand, InvalidState
from domain.events import (
    CaseOpened,
    CaseWithdrawn,
    DeadlineSet,
    DuplicateFindingMerged,
    Event,
    FindingRecorded,
    ResponsibilityAssigned,
    ResponsibilityTransferred,
    TargetSet,
)
from domain.handlers.milestones import check_milestones
from domain.state import CaseState, case_id_for
from domain.vocabulary import CaseStatus

_EXISTS = InvalidState("case_exists", "该问题已立项", "a case already exists for this finding")


def _finding(cmd: OpenCase, ctx: Context) -> FindingRecorded:
    return FindingRecorded(
        occurred_at=ctx.now,
        finding_id=cmd.finding_id,
        source=cmd.source,
        title=cmd.title,
        description=cmd.description,
        category=cmd.category,
        severity=cmd.severity,
        unit_id=cmd.unit_id,
        cadre_id=cmd.cadre_id,
    )


def open_case(state: CaseState | None, cmd: OpenCase, ctx: Context) -> list[Event]:
    events: list[Event] = []
    if state is None:
        events.append(_finding(cmd, ctx))
    elif state.status is not CaseStatus.RECORDED:
        raise _EXISTS
    elif state.case_id != case_id_for(cmd.finding_id):
        raise InvalidCommand(
            "finding_mismatch", "问题编号与案件不符", "the finding id does not match this case"
        )
    working_days: int | None = None
    counted_from: date | None = None
    provisional = False
    if cmd.deadline is None:
        working_days = ctx.policy.deadlines.working_days(cmd.kind)
        counted_from = ctx.today
        counted = ctx.policy.default_deadline(cmd.kind, ctx.today)
        deadline, provisional = counted.date, counted.provisional
    else:
        deadline = cmd.deadline
        guards.ensure_future_deadline(deadline, ctx.today)
    check_milestones(cmd.kind, cmd.milestones, deadline, ctx.today)
    events.append(
        CaseOpened(
            occurred_at=ctx.now,
            case_id=case_id_for(cmd.finding_id),
            finding_id=cmd.finding_id,
            unit_id=cmd.unit_id,
            cadre_id=cmd.cadre_id,
            kind=cmd.kind,
            deadline=deadline,
            target=cmd.target,
            deadline_working_days=working_days,
            deadline_counted_from=counted_from,
            deadline_provisional=provisional,
            milestones=cmd.milestones,
            duplicate_override=cmd.override_duplicate,
            policy_version=ctx.policy.version,
            policy_hash=ctx.policy.fingerprint(),
            policy_class=ctx.policy.unit_class,
        )
    )
    return events


def merge(state: CaseState | None, cmd: MergeDuplicateFinding, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    guards.ensure_active(case)
    if any(f.finding_id == cmd.finding_id for f in case.findings):
        raise InvalidState(
            "finding_already_merged", "该问题已并入本案件", "the finding is already in this case"
        )
    return [
        DuplicateFindingMerged(
            occurred_at=ctx.now,
            finding_id=cmd.finding_id,
            source=cmd.source,
            title=cmd.title,
            description=cmd.description,
            category=cmd.category,
            severity=cmd.severity,
            similarity=cmd.similarity,
        )
    ]


def assign(state: CaseState | None, cmd: AssignResponsibility, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    guards.ensure_active(case)
    if cmd.cadre_id == case.cadre_id:
        raise InvalidCommand("same_cadre", "该干部已是责任人", "that cadre is already responsible")
    return [
        ResponsibilityAssigned(
            occurred_at=ctx.now,
            cadre_id=cmd.cadre_id,
            previous_cadre_id=case.cadre_id,
            reason=cmd.reason,
        )
    ]


def transfer(state: CaseState | None, cmd: TransferResponsibility, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    guards.ensure_active(case)
    if cmd.unit_id == case.unit_id:
        raise InvalidCommand(
            "same_unit",
            "移交须换到另一责任单位；同一单位内请指定责任人",
            "a transfer goes to another unit; within the unit, assign a cadre",
        )
    return [
        ResponsibilityTransferred(
            occurred_at=ctx.now,
            unit_id=cmd.unit_id,
            cadre_id=cmd.cadre_id,
            previous_unit_id=case.unit_id,
            previous_cadre_id=case.cadre_id,
            reason=cmd.reason,
        )
    ]


def set_deadline(state: CaseState | None, cmd: SetDeadline, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    guards.ensure_active(case)
    guards.ensure_future_deadline(cmd.deadline, ctx.today)
    assert case.deadline is not None  # an active case has one
    if cmd.deadline == case.deadline:
        raise InvalidCommand("same_deadline", "整改期限未变化", "the deadline is unchanged")
    return [
        DeadlineSet(
            occurred_at=ctx.now,
            deadline=cmd.deadline,
            previous_deadline=case.deadline,
            reason=cmd.reason,
        )
    ]


def recompute_deadline(
    state: CaseState | None, cmd: RecomputeDeadline, ctx: Context
) -> list[Event]:
    """Recount a provisional deadline; no events when the calendar changed nothing."""
    case = guards.ensure_case(state)
    guards.ensure_active(case)
    if not case.deadline_provisional or case.deadline_working_days is None:
        raise InvalidState(
            "deadline_not_provisional",
            "整改期限不是按临时日历计算的，无需重算",
            "the deadline was not counted on a provisional calendar",
        )
    assert case.deadline is not None
    assert case.deadline_counted_from is not None
    policy = ctx.policy.with_calendar_years(cmd.years)
    counted = policy.working_calendar().add_working_days(
        case.deadline_counted_from, case.deadline_working_days
    )
    if counted.date == case.deadline and counted.provisional:
        return []  # the year is still unknown: nothing to recount yet
    return [
        DeadlineSet(
            occurred_at=ctx.now,
            deadline=counted.date,
            previous_deadline=case.deadline,
            reason="calendar_updated",
            deadline_working_days=case.deadline_working_days,
            deadline_counted_from=case.deadline_counted_from,
            deadline_provisional=counted.provisional,
        )
    ]


def set_target(state: CaseState | None, cmd: SetTarget, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    guards.ensure_active(case)
    return [TargetSet(occurred_at=ctx.now, target=cmd.target)]


def withdraw(state: CaseState | None, cmd: WithdrawCase, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    if case.status is CaseStatus.WITHDRAWN:
        raise InvalidState("already_withdrawn", "案件已撤销", "the case is already withdrawn")
    if case.status is CaseStatus.MERGED:
        raise InvalidState("case_merged", "案件已合并", "the case was merged into another")
    return [CaseWithdrawn(occurred_at=ctx.now, reason=cmd.reason)]
