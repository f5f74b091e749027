"""domain/handlers/system.py: the timers' exact events, refusals and boundary days.

The case of ``opened()`` is due 2025-04-30 (a Wednesday). China's 2025 calendar: 04-27
(a Sunday) is worked, 05-01 .. 05-05 are the Labour Day holidays.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.case import decide
from domain.commands import Escalate, MarkMilestoneDue, MarkOverdue, RaiseWarning, SendReminder
from domain.errors import DomainError, InvalidCommand, InvalidState
from domain.events import CaseEscalated, CaseOverdue, MilestoneDue, ReminderSent, WarningRaised
from domain.policy import DEFAULT_POLICY, EscalationStep, Policy
from domain.state import CaseState, MilestoneState
from domain.values import Milestone
from domain.vocabulary import CaseKind, CaseStatus, EscalationLevel, WarningReason

from .builders import DEADLINE, SYSTEM, at, opened

MILESTONE = Milestone(milestone_id="m1", title="完成清淤", due=date(2025, 6, 30))
BEHIND = RaiseWarning(actor=SYSTEM, reason=WarningReason.BEHIND_MILESTONE, milestone_id="m1")


def refused(state: Any, command: Any, now: Any, policy: Policy = DEFAULT_POLICY) -> DomainError:
    with pytest.raises(DomainError) as raised:
        decide(state, command, now, policy)
    return raised.value


def triple(error: DomainError) -> tuple[type, str, str, str]:
    return (type(error), error.code, error.message_zh, error.message_en)


def not_due(zh: str, en: str) -> tuple[type, str, str, str]:
    return (InvalidState, "not_due", f"{zh}尚未到时", f"{en} is not due yet")


def done(zh: str, en: str) -> tuple[type, str, str, str]:
    return (InvalidState, "already_done", f"{zh}已办理", f"{en} was already done")


def case(**changes: Any) -> CaseState:
    return opened().case.model_copy(update=changes)


def long_term(**milestone: Any) -> CaseState:
    state = opened(kind=CaseKind.LONG_TERM, deadline=date(2025, 12, 31), milestones=(MILESTONE,))
    first = state.case.milestones[0].model_copy(update=milestone)
    return state.case.model_copy(update={"milestones": (first,)})


def not_active() -> tuple[type, str, str, str]:
    return (
        InvalidState,
        "case_not_active",
        "案件当前状态为“已撤销”，不能办理此事项",
        "the case is withdrawn, which does not allow this",
    )


WITHDRAWN = case(status=CaseStatus.WITHDRAWN)


# --- reminders --------------------------------------------------------------------------


def test_a_reminder_is_sent_on_its_working_day_and_not_the_day_before() -> None:
    reminder = SendReminder(actor=SYSTEM, working_days_before=3)
    assert decide(case(), reminder, at(2025, 4, 27)) == [
        ReminderSent(occurred_at=at(2025, 4, 27), deadline=DEADLINE, working_days_before=3)
    ]
    assert triple(refused(case(), reminder, at(2025, 4, 26))) == not_due("该提醒", "this reminder")
    # later, still before the deadline, it is sent all the same
    assert decide(case(), reminder, at(2025, 4, 29))[0] == ReminderSent(
        occurred_at=at(2025, 4, 29), deadline=DEADLINE, working_days_before=3
    )


def test_a_reminder_on_the_deadline_day_but_not_after() -> None:
    reminder = SendReminder(actor=SYSTEM, working_days_before=0)
    assert decide(case(), reminder, at(2025, 4, 30, 23)) == [
        ReminderSent(occurred_at=at(2025, 4, 30, 23), deadline=DEADLINE, working_days_before=0)
    ]
    assert triple(refused(case(), reminder, at(2025, 5, 1, 0))) == (
        InvalidState,
        "case_overdue",
        "已逾期，不再提醒",
        "the case is overdue; no reminders",
    )


def test_a_reminder_already_sent_is_done_even_when_overdue() -> None:
    reminder = SendReminder(actor=SYSTEM, working_days_before=3)
    sent = case(reminders_sent=(5, 3))
    assert triple(refused(sent, reminder, at(2025, 4, 28))) == done("该提醒", "this reminder")
    assert triple(refused(sent, reminder, at(2025, 5, 6))) == done("该提醒", "this reminder")
    assert decide(sent, SendReminder(actor=SYSTEM, working_days_before=1), at(2025, 4, 29))


def test_no_reminder_for_a_withdrawn_case() -> None:
    reminder = SendReminder(actor=SYSTEM, working_days_before=3)
    assert triple(refused(WITHDRAWN, reminder, at(2025, 4, 28))) == not_active()


# --- warnings ---------------------------------------------------------------------------


def test_the_deadline_warning_from_five_working_days_before() -> None:
    # (04-24, 04-30] holds 5 working days: 25, 27, 28, 29, 30.
    warning = RaiseWarning(actor=SYSTEM, milestone_id="m1")  # the id is ignored
    assert decide(case(), warning, at(2025, 4, 24)) == [
        WarningRaised(
            occurred_at=at(2025, 4, 24),
            reason=WarningReason.NEAR_DEADLINE,
            deadline=DEADLINE,
            milestone_id=None,
        )
    ]
    assert triple(refused(case(), warning, at(2025, 4, 23))) == not_due(
        "临期预警", "the deadline warning"
    )
    # the policy's threshold, not the default one
    wider = Policy(yellow_working_days=6)
    assert decide(case(), warning, at(2025, 4, 23), wider)[0] == WarningRaised(
        occurred_at=at(2025, 4, 23), reason=WarningReason.NEAR_DEADLINE, deadline=DEADLINE
    )


@pytest.mark.parametrize("flag", ["warned", "overdue"])
def test_the_deadline_warning_once_and_never_when_overdue(flag: str) -> None:
    state = case(**{flag: True})
    assert triple(refused(state, RaiseWarning(actor=SYSTEM), at(2025, 4, 28))) == done(
        "临期预警", "the deadline warning"
    )


def test_no_warning_for_a_withdrawn_case() -> None:
    assert triple(refused(WITHDRAWN, RaiseWarning(actor=SYSTEM), at(2025, 4, 28))) == not_active()


def test_the_milestone_warning_the_day_after_its_due_day() -> None:
    assert decide(long_term(), BEHIND, at(2025, 7, 1)) == [
        WarningRaised(
            occurred_at=at(2025, 7, 1),
            reason=WarningReason.BEHIND_MILESTONE,
            deadline=date(2025, 12, 31),
            milestone_id="m1",
        )
    ]
    behind_zh, behind_en = "该节点预警", "this milestone warning"
    assert triple(refused(long_term(), BEHIND, at(2025, 6, 30, 23))) == not_due(
        behind_zh, behind_en
    )
    reported = long_term(reported=True)
    assert triple(refused(reported, BEHIND, at(2025, 7, 1))) == not_due(behind_zh, behind_en)
    warned = long_term(warned=True)
    assert triple(refused(warned, BEHIND, at(2025, 7, 1))) == done(behind_zh, behind_en)
    # the milestone's own flag, not the case's
    assert decide(long_term().model_copy(update={"warned": True}), BEHIND, at(2025, 7, 1))


def test_a_milestone_warning_names_a_milestone_of_the_case() -> None:
    unknown = RaiseWarning(actor=SYSTEM, reason=WarningReason.BEHIND_MILESTONE, milestone_id="m9")
    assert triple(refused(long_term(), unknown, at(2025, 7, 1))) == (
        InvalidCommand,
        "unknown_milestone",
        "本案件没有节点 m9",
        "this case has no milestone m9",
    )
    nameless = RaiseWarning(actor=SYSTEM, reason=WarningReason.BEHIND_MILESTONE)
    assert triple(refused(long_term(), nameless, at(2025, 7, 1))) == (
        InvalidCommand,
        "unknown_milestone",
        "本案件没有节点 None",
        "this case has no milestone None",
    )


# --- overdue ------------------------------------------------------------------------------


def test_overdue_from_the_day_after_the_deadline() -> None:
    assert decide(case(), MarkOverdue(actor=SYSTEM), at(2025, 5, 1, 0)) == [
        CaseOverdue(occurred_at=at(2025, 5, 1, 0), deadline=DEADLINE)
    ]
    assert triple(refused(case(), MarkOverdue(actor=SYSTEM), at(2025, 4, 30, 23))) == not_due(
        "逾期标记", "marking overdue"
    )
    assert triple(refused(case(overdue=True), MarkOverdue(actor=SYSTEM), at(2025, 5, 6))) == done(
        "逾期标记", "marking overdue"
    )


def test_overdue_only_while_open() -> None:
    pending = case(status=CaseStatus.CLOSURE_PENDING)
    assert triple(refused(pending, MarkOverdue(actor=SYSTEM), at(2025, 5, 6))) == (
        InvalidState,
        "case_not_open",
        "案件当前状态为“待验收”，不能办理此事项",
        "the case is closure_pending, which does not allow this",
    )


# --- escalation ---------------------------------------------------------------------------


def overdue(level: int = 0) -> CaseState:
    return case(overdue=True, escalation_level=level)


def test_escalation_needs_an_open_overdue_case() -> None:
    pending = case(status=CaseStatus.CLOSURE_PENDING, overdue=True)
    assert refused(pending, Escalate(actor=SYSTEM, level=1), at(2025, 5, 6)).code == (
        "case_not_open"
    )
    assert triple(refused(case(), Escalate(actor=SYSTEM, level=1), at(2025, 5, 6))) == (
        InvalidState,
        "not_overdue",
        "案件未逾期，不能升级督办",
        "the case is not overdue",
    )


def test_each_level_once() -> None:
    for level in (1, 2):
        error = refused(overdue(2), Escalate(actor=SYSTEM, level=level), at(2025, 6, 6))
        assert triple(error) == done(f"第 {level} 级督办", f"escalation level {level}")


def test_levels_go_one_by_one() -> None:
    assert triple(refused(overdue(1), Escalate(actor=SYSTEM, level=3), at(2025, 6, 6))) == (
        InvalidCommand,
        "escalation_out_of_order",
        "督办须逐级升级，当前为第 1 级",
        "escalation goes one level at a time; the case is at level 1",
    )


def test_a_level_the_policy_lacks_is_refused() -> None:
    short = Policy(
        escalation=(EscalationStep(level=EscalationLevel.URGE, working_days_after_deadline=1),)
    )
    error = refused(overdue(1), Escalate(actor=SYSTEM, level=2), at(2025, 6, 6), short)
    assert triple(error) == (
        InvalidCommand,
        "escalation_level_not_in_policy",
        "督办规则中没有第 2 级",
        "the escalation policy has no level 2",
    )


def test_a_level_is_due_after_its_working_days_past_the_deadline() -> None:
    # Working days after 04-30: 05-06 (1), 05-07, 05-08, 05-09, 05-12 (5), 05-13 (6).
    second = Escalate(actor=SYSTEM, level=2)
    assert decide(overdue(1), second, at(2025, 5, 12)) == [
        CaseEscalated(
            occurred_at=at(2025, 5, 12),
            level=EscalationLevel.FORMAL_SUPERVISION,
            deadline=DEADLINE,
            working_days_overdue=5,
        )
    ]
    assert triple(refused(overdue(1), second, at(2025, 5, 11))) == not_due(
        "第 2 级督办", "escalation level 2"
    )
    [later] = decide(overdue(1), second, at(2025, 5, 13))
    assert isinstance(later, CaseEscalated)
    assert later.working_days_overdue == 6
    first = decide(overdue(0), Escalate(actor=SYSTEM, level=1), at(2025, 5, 6))
    assert first == [
        CaseEscalated(
            occurred_at=at(2025, 5, 6),
            level=EscalationLevel.URGE,
            deadline=DEADLINE,
            working_days_overdue=1,
        )
    ]


# --- milestone due ------------------------------------------------------------------------


def test_a_milestone_falls_due_on_its_day() -> None:
    mark = MarkMilestoneDue(actor=SYSTEM, milestone_id="m1")
    assert decide(long_term(), mark, at(2025, 6, 30, 0)) == [
        MilestoneDue(occurred_at=at(2025, 6, 30, 0), milestone_id="m1", due=date(2025, 6, 30))
    ]
    assert triple(refused(long_term(), mark, at(2025, 6, 29, 23))) == not_due(
        "节点到期标记", "marking the milestone due"
    )
    assert triple(refused(long_term(due_marked=True), mark, at(2025, 7, 1))) == done(
        "节点到期标记", "marking the milestone due"
    )
    unknown = MarkMilestoneDue(actor=SYSTEM, milestone_id="m2")
    assert refused(long_term(), unknown, at(2025, 7, 1)).code == "unknown_milestone"


def test_no_milestone_due_for_a_withdrawn_case() -> None:
    withdrawn = long_term().model_copy(update={"status": CaseStatus.WITHDRAWN})
    mark = MarkMilestoneDue(actor=SYSTEM, milestone_id="m1")
    assert triple(refused(withdrawn, mark, at(2025, 7, 1))) == not_active()


def test_milestone_state_is_read_by_id() -> None:
    second = MilestoneState(milestone_id="m2", title="二期", due=date(2025, 9, 30))
    state = long_term().model_copy(update={"milestones": (long_term().milestones[0], second)})
    [event] = decide(state, MarkMilestoneDue(actor=SYSTEM, milestone_id="m2"), at(2025, 9, 30))
    assert event == MilestoneDue(occurred_at=at(2025, 9, 30), milestone_id="m2", due=second.due)
