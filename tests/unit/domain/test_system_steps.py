"""The workflow's timers: reminders, warnings, overdue, escalation, milestones."""

from __future__ import annotations

from datetime import date

import pytest

from domain.commands import (
    Escalate,
    MarkMilestoneDue,
    MarkOverdue,
    RaiseWarning,
    RecomputeDeadline,
    ReportMilestone,
    RequestClosure,
    SendReminder,
    SetDeadline,
)
from domain.errors import InvalidCommand, InvalidState
from domain.events import CaseEscalated, DeadlineSet, MilestoneDue, ReminderSent, WarningRaised
from domain.policy import CalendarPolicy, Policy
from domain.values import Milestone
from domain.vocabulary import CaseKind, WarningReason
from domain.workdays import CalendarYear

from .builders import SUPERVISOR, SYSTEM, UNIT, at, opened, with_plan


def test_a_reminder_is_sent_once_per_offset() -> None:
    history = opened()
    # 2025-04-30 is a Wednesday; 3 working days before it is 2025-04-25 (4-27 is worked).
    assert [
        type(e)
        for e in history.do(SendReminder(actor=SYSTEM, working_days_before=3), at(2025, 4, 27))
    ] == [ReminderSent]
    with pytest.raises(InvalidState) as refused:
        history.do(SendReminder(actor=SYSTEM, working_days_before=3), at(2025, 4, 28))
    assert refused.value.code == "already_done"


def test_a_reminder_before_its_time_is_refused() -> None:
    with pytest.raises(InvalidState) as refused:
        opened().do(SendReminder(actor=SYSTEM, working_days_before=1), at(2025, 4, 1))
    assert refused.value.code == "not_due"


def test_a_yellow_warning_near_the_deadline() -> None:
    history = opened()
    with pytest.raises(InvalidState):
        history.do(RaiseWarning(actor=SYSTEM), at(2025, 4, 1))
    assert history.do(RaiseWarning(actor=SYSTEM), at(2025, 4, 25))
    assert history.case.warned


def test_overdue_only_after_the_deadline_day() -> None:
    history = opened()
    with pytest.raises(InvalidState):
        history.do(MarkOverdue(actor=SYSTEM), at(2025, 4, 30, 23))
    history.do(MarkOverdue(actor=SYSTEM), at(2025, 5, 1, 0))
    assert history.case.overdue


def test_no_overdue_while_closure_awaits_verification() -> None:
    history = with_plan(opened())
    history.do(RequestClosure(actor=UNIT, summary="完成"))
    with pytest.raises(InvalidState):
        history.do(MarkOverdue(actor=SYSTEM), at(2025, 5, 6))


def test_escalation_goes_one_level_at_a_time_after_its_working_days() -> None:
    history = opened()
    with pytest.raises(InvalidState) as refused:
        history.do(Escalate(actor=SYSTEM, level=1), at(2025, 5, 6))
    assert refused.value.code == "not_overdue"
    history.do(MarkOverdue(actor=SYSTEM), at(2025, 5, 6))
    with pytest.raises(InvalidCommand) as skipped:
        history.do(Escalate(actor=SYSTEM, level=2), at(2025, 5, 6))
    assert skipped.value.code == "escalation_out_of_order"
    events = history.do(Escalate(actor=SYSTEM, level=1), at(2025, 5, 6))
    assert isinstance(events[0], CaseEscalated)
    assert events[0].working_days_overdue == 1  # 5-1..5-5 are holidays
    with pytest.raises(InvalidState) as early:
        history.do(Escalate(actor=SYSTEM, level=2), at(2025, 5, 7))
    assert early.value.code == "not_due"


def test_a_new_deadline_resets_the_ladder_but_not_the_highest_level() -> None:
    history = opened()
    history.do(MarkOverdue(actor=SYSTEM), at(2025, 5, 6))
    history.do(Escalate(actor=SYSTEM, level=1), at(2025, 5, 6))
    history.do(
        SetDeadline(actor=SUPERVISOR, deadline=date(2025, 6, 30), reason="调整"), at(2025, 5, 7)
    )
    case = history.case
    assert (case.escalation_level, case.highest_escalation_level, case.overdue) == (0, 1, False)
    assert case.original_deadline == date(2025, 6, 30)


def _long_term() -> Milestone:
    return Milestone(milestone_id="m1", title="完成清淤", due=date(2025, 6, 30))


def test_a_milestone_falls_due_and_behind_it_the_case_turns_yellow() -> None:
    history = opened(
        kind=CaseKind.LONG_TERM, deadline=date(2025, 12, 31), milestones=(_long_term(),)
    )
    with pytest.raises(InvalidState):
        history.do(MarkMilestoneDue(actor=SYSTEM, milestone_id="m1"), at(2025, 6, 29))
    assert [
        type(e)
        for e in history.do(MarkMilestoneDue(actor=SYSTEM, milestone_id="m1"), at(2025, 6, 30))
    ] == [MilestoneDue]
    warning = RaiseWarning(actor=SYSTEM, reason=WarningReason.BEHIND_MILESTONE, milestone_id="m1")
    assert [type(e) for e in history.do(warning, at(2025, 7, 1))] == [WarningRaised]
    with pytest.raises(InvalidState):
        history.do(warning, at(2025, 7, 2))


def test_a_reported_milestone_raises_no_warning() -> None:
    history = opened(
        kind=CaseKind.LONG_TERM, deadline=date(2025, 12, 31), milestones=(_long_term(),)
    )
    history.do(ReportMilestone(actor=UNIT, milestone_id="m1", text="已完成清淤"), at(2025, 6, 20))
    warning = RaiseWarning(actor=SYSTEM, reason=WarningReason.BEHIND_MILESTONE, milestone_id="m1")
    with pytest.raises(InvalidState):
        history.do(warning, at(2025, 7, 1))
    with pytest.raises(InvalidState) as twice:
        history.do(ReportMilestone(actor=UNIT, milestone_id="m1", text="再报"), at(2025, 7, 1))
    assert twice.value.code == "milestone_already_reported"


def test_a_provisional_deadline_is_recounted_when_the_years_calendar_arrives() -> None:
    history = opened(now=at(2026, 12, 1), deadline=None)
    provisional = history.case.deadline
    assert history.case.deadline_provisional
    # Nothing is known yet: the recount changes nothing.
    assert history.do(RecomputeDeadline(actor=SYSTEM), at(2026, 12, 2)) == []
    # The notice arrives: 2027-01-04 .. 2027-01-08 declared holidays (a made-up example).
    notice = CalendarYear(
        year=2027, holidays=frozenset(date(2027, 1, d) for d in range(1, 9)), workdays=frozenset()
    )
    history.policy = Policy(calendar=CalendarPolicy(years=(notice,)))
    events = history.do(RecomputeDeadline(actor=SYSTEM), at(2026, 12, 3))
    assert isinstance(events[0], DeadlineSet)
    assert events[0].deadline > provisional  # type: ignore[operator]
    assert not history.case.deadline_provisional
    with pytest.raises(InvalidState):
        history.do(RecomputeDeadline(actor=SYSTEM), at(2026, 12, 4))
