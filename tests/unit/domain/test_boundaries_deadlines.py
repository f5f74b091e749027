"""Boundary days of the timers' rules: reminders, the deadline warning, overdue, each
step of the escalation ladder, milestones and "a deadline must be after today".

Each rule is tried the day before its boundary, on it and the day after. The calendar
has weekends only, so every date below can be counted by hand: the case opens on
Monday 2025-03-03 and its deadline is Wednesday 2025-04-30.

Working days left on a day are those after it up to the deadline, the deadline day
included: from Wednesday 04-23 they are 04-24, 04-25, 04-28, 04-29 and 04-30 (five).
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from domain.commands import (
    Escalate,
    MarkMilestoneDue,
    MarkOverdue,
    RaiseWarning,
    ReopenCase,
    SendReminder,
    SetDeadline,
    VerifyClosure,
)
from domain.errors import DomainError
from domain.policy import CalendarPolicy, Policy
from domain.schedule import planned_steps
from domain.values import Milestone
from domain.vocabulary import CaseKind, WarningReason

from .builders import SUPERVISOR, SYSTEM, History, at, open_case, opened, pending_closure

WEEKENDS_ONLY = Policy(calendar=CalendarPolicy(use_package=False, fixed_holidays=()))
DEADLINE = date(2025, 4, 30)  # a Wednesday


def _case(policy: Policy = WEEKENDS_ONLY) -> History:
    return opened(policy=policy, deadline=DEADLINE)


def _day(day: date, hour: int = 9) -> datetime:
    return at(day.year, day.month, day.day, hour)


def _code(history: History, command: object, when: datetime) -> str:
    """The refusal's code, or "ok" when the command was accepted."""
    try:
        history.do(command, when)  # type: ignore[arg-type]
    except DomainError as refused:
        return refused.code
    return "ok"


# -- reminders: N working days before the deadline ---------------------------------

REMINDERS = [
    # (reminder, day, outcome)
    (5, date(2025, 4, 22), "not_due"),  # six working days left
    (5, date(2025, 4, 23), "ok"),  # exactly five left
    (5, date(2025, 4, 24), "ok"),  # four left: a late reminder still goes out, once
    (3, date(2025, 4, 24), "not_due"),  # four left
    (3, date(2025, 4, 25), "ok"),  # three left (Friday)
    (3, date(2025, 4, 27), "ok"),  # still three left on the Sunday
    (3, date(2025, 4, 28), "ok"),  # two left
    (1, date(2025, 4, 28), "not_due"),  # two left
    (1, date(2025, 4, 29), "ok"),  # one left
    (1, date(2025, 4, 30), "ok"),  # the deadline day itself: none left after it
    (1, date(2025, 5, 1), "case_overdue"),  # the day after the deadline
]


@pytest.mark.parametrize(("days_before", "day", "outcome"), REMINDERS)
def test_a_reminder_is_due_from_the_day_that_many_working_days_remain(
    days_before: int, day: date, outcome: str
) -> None:
    command = SendReminder(actor=SYSTEM, working_days_before=days_before)
    assert _code(_case(), command, _day(day)) == outcome


def test_a_reminder_is_sent_once_per_deadline() -> None:
    history = _case()
    history.do(SendReminder(actor=SYSTEM, working_days_before=5), _day(date(2025, 4, 23)))
    again = SendReminder(actor=SYSTEM, working_days_before=5)
    assert _code(history, again, _day(date(2025, 4, 24))) == "already_done"


# -- the deadline warning: yellow_working_days before ----------------------------------

WARNINGS = [
    (date(2025, 4, 22), "not_due"),  # six working days left
    (date(2025, 4, 23), "ok"),  # five left: the policy's yellow_working_days
    (date(2025, 4, 30), "ok"),  # the deadline day
]


@pytest.mark.parametrize(("day", "outcome"), WARNINGS)
def test_the_deadline_warning_is_due_when_yellow_working_days_remain(
    day: date, outcome: str
) -> None:
    assert _code(_case(), RaiseWarning(actor=SYSTEM), _day(day)) == outcome


@pytest.mark.parametrize("yellow", [0, 1, 3, 10])
def test_the_warning_follows_the_policys_yellow_threshold(yellow: int) -> None:
    policy = WEEKENDS_ONLY.model_copy(update={"yellow_working_days": yellow})
    calendar = policy.working_calendar()
    on = calendar.subtract_working_days(DEADLINE, yellow)  # exactly ``yellow`` left
    before = calendar.subtract_working_days(DEADLINE, yellow + 1)  # one more left
    assert calendar.working_days_between(on, DEADLINE) == yellow
    assert _code(_case(policy), RaiseWarning(actor=SYSTEM), _day(before)) == "not_due"
    assert _code(_case(policy), RaiseWarning(actor=SYSTEM), _day(on)) == "ok"


# -- overdue: the day after the deadline day ----------------------------------------------

OVERDUE = [
    (at(2025, 4, 30, 0), "not_due"),
    (at(2025, 4, 30, 23), "not_due"),  # the deadline day is still in time, to its end
    (datetime.fromisoformat("2025-04-30T23:59:59+08:00"), "not_due"),
    (datetime.fromisoformat("2025-04-30T16:00:00+00:00"), "ok"),  # 05-01 00:00 in China
    (at(2025, 5, 1, 0), "ok"),
    (at(2025, 5, 2), "ok"),
]


@pytest.mark.parametrize(("when", "outcome"), OVERDUE)
def test_a_case_is_overdue_from_the_first_moment_after_its_deadline_day(
    when: datetime, outcome: str
) -> None:
    assert _code(_case(), MarkOverdue(actor=SYSTEM), when) == outcome


# -- the escalation ladder: 1, 5, 10, 20 working days after the deadline ------------------

# The first day each level is due: the deadline plus that many working days.
LADDER = {1: date(2025, 5, 1), 2: date(2025, 5, 7), 3: date(2025, 5, 14), 4: date(2025, 5, 28)}
# The working day before each (one working day short).
SHORT = {2: date(2025, 5, 6), 3: date(2025, 5, 13), 4: date(2025, 5, 27)}


def _escalated_to(level: int) -> History:
    """Overdue and escalated to ``level`` on the day each level fell due."""
    history = _case()
    history.do(MarkOverdue(actor=SYSTEM), _day(LADDER[1]))
    for reached in range(1, level + 1):
        history.do(Escalate(actor=SYSTEM, level=reached), _day(LADDER[reached]))
    return history


@pytest.mark.parametrize("level", [2, 3, 4])
def test_an_escalation_level_is_not_due_one_working_day_before_its_step(level: int) -> None:
    history = _escalated_to(level - 1)
    assert _code(history, Escalate(actor=SYSTEM, level=level), _day(SHORT[level])) == "not_due"


@pytest.mark.parametrize("level", [1, 2, 3, 4])
def test_an_escalation_level_is_due_on_the_day_of_its_step(level: int) -> None:
    history = _escalated_to(level - 1)
    assert _code(history, Escalate(actor=SYSTEM, level=level), _day(LADDER[level])) == "ok"
    assert history.case.escalation_level == level


@pytest.mark.parametrize("level", [1, 2, 3, 4])
def test_an_escalation_level_is_due_after_its_step_too(level: int) -> None:
    history = _escalated_to(level - 1)
    later = date(LADDER[level].year, LADDER[level].month, LADDER[level].day + 1)
    assert _code(history, Escalate(actor=SYSTEM, level=level), _day(later)) == "ok"


def test_the_escalation_records_how_many_working_days_overdue() -> None:
    history = _escalated_to(1)
    (event,) = history.do(Escalate(actor=SYSTEM, level=2), _day(LADDER[2]))
    assert event.working_days_overdue == 5  # type: ignore[attr-defined]


def test_a_level_past_the_policys_ladder_is_refused() -> None:
    short_ladder = WEEKENDS_ONLY.model_copy(update={"escalation": WEEKENDS_ONLY.escalation[:3]})
    history = opened(policy=short_ladder, deadline=DEADLINE)
    history.do(MarkOverdue(actor=SYSTEM), _day(LADDER[1]))
    for level in (1, 2, 3):
        history.do(Escalate(actor=SYSTEM, level=level), _day(LADDER[level]))
    refused = _code(history, Escalate(actor=SYSTEM, level=4), _day(date(2025, 7, 1)))
    assert refused == "escalation_level_not_in_policy"


def test_the_schedule_plans_each_step_on_its_boundary_day() -> None:
    due = {
        (type(s.command).__name__, getattr(s.command, "working_days_before", None)): s.due
        for s in planned_steps(_case().case, WEEKENDS_ONLY)
        if not isinstance(s.command, Escalate)
    }
    assert due == {
        ("SendReminder", 5): date(2025, 4, 23),
        ("SendReminder", 3): date(2025, 4, 27),  # from the Sunday, three remain
        ("SendReminder", 1): date(2025, 4, 29),
        ("RaiseWarning", None): date(2025, 4, 23),
        ("MarkOverdue", None): date(2025, 5, 1),
    }
    ladder = [
        s for s in planned_steps(_case().case, WEEKENDS_ONLY) if isinstance(s.command, Escalate)
    ]
    assert {int(s.command.level): s.due for s in ladder} == LADDER  # type: ignore[attr-defined]


# -- milestones: due on their day, behind the day after ---------------------------------

MILESTONE_DUE = date(2025, 6, 30)


def _long_term() -> History:
    milestone = Milestone(milestone_id="m1", title="清淤", due=MILESTONE_DUE)
    return opened(
        policy=WEEKENDS_ONLY,
        kind=CaseKind.LONG_TERM,
        deadline=date(2025, 12, 31),
        milestones=(milestone,),
    )


@pytest.mark.parametrize(
    ("day", "outcome"),
    [(date(2025, 6, 29), "not_due"), (MILESTONE_DUE, "ok"), (date(2025, 7, 1), "ok")],
)
def test_a_milestone_is_due_on_its_day(day: date, outcome: str) -> None:
    command = MarkMilestoneDue(actor=SYSTEM, milestone_id="m1")
    assert _code(_long_term(), command, _day(day)) == outcome


@pytest.mark.parametrize(
    ("day", "outcome"),
    [(MILESTONE_DUE, "not_due"), (date(2025, 7, 1), "ok")],
)
def test_a_milestone_is_behind_only_after_its_day(day: date, outcome: str) -> None:
    command = RaiseWarning(actor=SYSTEM, reason=WarningReason.BEHIND_MILESTONE, milestone_id="m1")
    assert _code(_long_term(), command, _day(day)) == outcome


@pytest.mark.parametrize(
    ("due", "outcome"),
    [
        (date(2025, 3, 3), "milestone_out_of_range"),  # today
        (date(2025, 3, 4), "ok"),  # tomorrow
        (date(2025, 12, 31), "ok"),  # the deadline day
        (date(2026, 1, 1), "milestone_out_of_range"),  # the day after the deadline
    ],
)
def test_a_milestone_falls_after_today_and_by_the_deadline(due: date, outcome: str) -> None:
    milestone = Milestone(milestone_id="m1", title="清淤", due=due)
    command = open_case(
        kind=CaseKind.LONG_TERM, deadline=date(2025, 12, 31), milestones=(milestone,)
    )
    assert _code(History(policy=WEEKENDS_ONLY), command, at(2025, 3, 3)) == outcome


# -- a deadline set by hand must be after today ----------------------------------------


@pytest.mark.parametrize(
    ("deadline", "outcome"),
    [
        (date(2025, 3, 2), "deadline_not_in_future"),
        (date(2025, 3, 3), "deadline_not_in_future"),
        (date(2025, 3, 4), "ok"),
    ],
)
def test_a_case_opens_only_with_a_deadline_after_today(deadline: date, outcome: str) -> None:
    command = open_case(deadline=deadline)
    assert _code(History(policy=WEEKENDS_ONLY), command, at(2025, 3, 3, 23)) == outcome


@pytest.mark.parametrize(
    ("deadline", "outcome"),
    [(date(2025, 4, 10), "deadline_not_in_future"), (date(2025, 4, 11), "ok")],
)
def test_a_new_deadline_must_be_after_today(deadline: date, outcome: str) -> None:
    command = SetDeadline(actor=SUPERVISOR, deadline=deadline, reason="更正")
    assert _code(_case(), command, at(2025, 4, 10)) == outcome


@pytest.mark.parametrize(
    ("deadline", "outcome"),
    [(date(2025, 6, 2), "deadline_not_in_future"), (date(2025, 6, 3), "ok")],
)
def test_a_reopened_case_needs_a_deadline_after_today(deadline: date, outcome: str) -> None:
    history = pending_closure(_case(), at(2025, 4, 1))
    history.do(VerifyClosure(actor=SUPERVISOR), at(2025, 4, 1))
    command = ReopenCase(actor=SUPERVISOR, reason="反弹", deadline=deadline)
    assert _code(history, command, at(2025, 6, 2)) == outcome


def test_the_schedule_plans_a_milestone_warning_the_day_after_it_falls_due() -> None:
    steps = planned_steps(_long_term().case, WEEKENDS_ONLY)
    warnings = [s.due for s in steps if isinstance(s.command, RaiseWarning)]
    assert date(2025, 7, 1) in warnings  # 06-30 + 1
    history = _long_term()
    history.do(
        RaiseWarning(actor=SYSTEM, reason=WarningReason.BEHIND_MILESTONE, milestone_id="m1"),
        _day(date(2025, 7, 1)),
    )
    after = planned_steps(history.case, WEEKENDS_ONLY)
    assert date(2025, 7, 1) not in [s.due for s in after if isinstance(s.command, RaiseWarning)]
