"""Each notice says what is true when it is made: working days left on the case's own
calendar, the light, the deadline, the level; and people's steps reach the other side.

The clock is driven as the workflow drives it (``planned_steps``, then ``decide``),
without Temporal: a case that enters the reminder window at any distance from its
deadline, at every boundary between the configured reminder days, is told the
true number, once.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest

from activities.models import Audience, NotificationKind, NotificationRequest
from domain.case import CaseState, decide, evolve, fold
from domain.commands import (
    Command,
    GrantExtension,
    OpenCase,
    RejectClosure,
    RequestClosure,
    RequestExtension,
    SubmitPlan,
    TransferResponsibility,
    VerifyClosure,
)
from domain.errors import DomainError
from domain.policy import DEFAULT_POLICY, CalendarPolicy, Policy
from domain.schedule import planned_steps
from domain.vocabulary import Actor, Role, Source
from workflows.notices import notice_for

CST = timezone(timedelta(hours=8))
PLAIN = Policy(calendar=CalendarPolicy(use_package=False, fixed_holidays=()))  # Mon–Fri only
SUPERVISOR = Actor(user_id="s", role=Role.SUPERVISOR)
UNIT = Actor(user_id="u", role=Role.UNIT, unit_id="unit-1")


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), CST)


def open_case(today: date, deadline: date, policy: Policy) -> tuple[CaseState, list[str]]:
    command = OpenCase(
        actor=SUPERVISOR,
        finding_id="f-1",
        source=Source.AUDIT,
        title="问题",
        unit_id="unit-1",
        cadre_id="c-1",
        deadline=deadline,
    )
    state = fold(decide(None, command, at(today, 8), policy))
    assert state is not None
    return state, []


def run_clock(
    state: CaseState, today: date, policy: Policy
) -> tuple[CaseState, list[NotificationRequest]]:
    """Every system step due by ``today``, as the workflow's timer runs them."""
    notices: list[NotificationRequest] = []
    refused: set[str] = set()
    while True:
        due = [
            s
            for s in planned_steps(state, policy)
            if s.due <= today and repr(s.command) not in refused
        ]
        if not due:
            return state, notices
        step = due[0]
        try:
            events = decide(state, step.command, at(today), policy)
        except DomainError:
            refused.add(repr(step.command))
            continue
        for n, event in enumerate(events):
            state = evolve(state, event)
            notice = notice_for(event, f"e{len(notices)}-{n}", state, "wf", policy)
            if notice is not None:
                notices.append(notice)


def act(
    state: CaseState, command: Command, when: datetime, policy: Policy = PLAIN
) -> tuple[CaseState, list[NotificationRequest]]:
    notices = []
    for event in decide(state, command, when, policy):
        state = evolve(state, event)
        notice = notice_for(event, "e", state, "wf", policy)
        if notice is not None:
            notices.append(notice)
    return state, notices


MONDAY = date(2030, 3, 4)
DEADLINE = MONDAY + timedelta(days=14)  # Monday 2030-03-18


@pytest.mark.parametrize("left", range(0, 8))
def test_a_case_entering_the_window_at_any_distance_is_told_the_true_number(
    left: int,
) -> None:
    """Reminders at 5, 3 and 1 working days: a case first seen with 0…7 working days
    left (every boundary between the configured days), then followed to its deadline.
    Every reminder says the working days really left that day; the first one, on the
    day the case is first seen, says ``left``; never two on one day."""
    calendar = PLAIN.working_calendar()
    first = DEADLINE
    while calendar.working_days_between(first, DEADLINE) < left or not calendar.is_working_day(
        first
    ):
        first -= timedelta(days=1)
    assert calendar.working_days_between(first, DEADLINE) == left
    state, _ = open_case(first - timedelta(days=10), DEADLINE, PLAIN)
    said: list[tuple[date, int | None]] = []
    day = first
    while day <= DEADLINE:
        state, notices = run_clock(state, day, PLAIN)
        for n in notices:
            if n.kind is NotificationKind.REMINDER:
                assert n.working_days_left == calendar.working_days_between(day, DEADLINE)
                assert (n.deadline, n.light, n.level) == (DEADLINE, "yellow", None)
                said.append((day, n.working_days_left))
        day += timedelta(days=1)
    days = [d for d, _ in said]
    assert len(days) == len(set(days))  # never two reminders on one day
    if left > 5:
        assert said[0][1] == 5  # on time: the first configured reminder
    else:
        assert said[0] == (first, left)  # late: at once, with the true number
    assert set(state.reminders_sent) == {5, 3, 1}


def test_a_case_followed_day_by_day_hears_each_configured_reminder_with_its_number() -> None:
    state, _ = open_case(MONDAY, DEADLINE, PLAIN)
    said: list[tuple[date, int | None, str | None]] = []
    day = MONDAY
    while day <= DEADLINE:
        state, notices = run_clock(state, day, PLAIN)
        said += [
            (day, n.working_days_left, n.light)
            for n in notices
            if n.kind is NotificationKind.REMINDER
        ]
        day += timedelta(days=1)
    calendar = PLAIN.working_calendar()
    assert said == [(calendar.subtract_working_days(DEADLINE, d), d, "yellow") for d in (5, 3, 1)]


def test_working_days_left_are_counted_on_the_case_calendar_across_a_holiday() -> None:
    """National Day 2025: on 9-30 the deadline 10-10 is ten calendar days away but only
    two working days (10-9, 10-10): the 3-day reminder says 2."""
    policy = DEFAULT_POLICY
    state, _ = open_case(date(2025, 9, 1), date(2025, 10, 10), policy)
    state, notices = run_clock(state, date(2025, 9, 30), policy)
    reminders = [n for n in notices if n.kind is NotificationKind.REMINDER]
    assert [n.working_days_left for n in reminders] == [2]


def test_overdue_and_escalation_carry_the_days_overdue_and_a_red_light() -> None:
    state, _ = open_case(MONDAY, DEADLINE, PLAIN)
    state, notices = run_clock(state, DEADLINE + timedelta(days=1), PLAIN)
    overdue = [n for n in notices if n.kind is NotificationKind.OVERDUE]
    escalation = [n for n in notices if n.kind is NotificationKind.ESCALATION]
    assert overdue[0].light == "red"
    assert overdue[0].working_days_overdue == 1
    assert (escalation[0].level, escalation[0].working_days_overdue) == (1, 1)


def test_people_steps_go_to_the_other_side() -> None:
    state, _ = open_case(MONDAY, DEADLINE, PLAIN)
    when = at(MONDAY + timedelta(days=1))
    state, asked = act(
        state,
        RequestExtension(
            actor=UNIT, reason="汛期无法施工", proposed_deadline=DEADLINE + timedelta(days=14)
        ),
        when,
    )
    assert [(n.kind, [r.audience for r in n.recipients]) for n in asked] == [
        (NotificationKind.EXTENSION_REQUESTED, [Audience.SUPERVISOR])
    ]
    assert asked[0].detail["reason"] == "汛期无法施工"
    assert asked[0].recipients[0].unit_id == "unit-1"  # the supervising side of this unit
    state, granted = act(
        state,
        GrantExtension(actor=SUPERVISOR),
        when,
    )
    assert [(n.kind, n.recipients[0].audience) for n in granted] == [
        (NotificationKind.EXTENSION_GRANTED, Audience.RESPONSIBLE)
    ]
    assert granted[0].deadline == DEADLINE + timedelta(days=14)
    state, plan = act(state, SubmitPlan(actor=UNIT, plan="方案"), when)
    assert plan == []  # the unit's own work notifies nobody
    state, closing = act(state, RequestClosure(actor=UNIT, summary="已完成"), when)
    assert [(n.kind, n.recipients[0].audience) for n in closing] == [
        (NotificationKind.CLOSURE_REQUESTED, Audience.SUPERVISOR)
    ]
    state, back = act(state, RejectClosure(actor=SUPERVISOR, reason="佐证不足"), when)
    assert [(n.kind, n.recipients[0].audience) for n in back] == [
        (NotificationKind.CLOSURE_REJECTED, Audience.RESPONSIBLE)
    ]
    state, moved = act(
        state,
        TransferResponsibility(
            actor=SUPERVISOR, unit_id="unit-2", cadre_id="c-2", reason="职能调整"
        ),
        when,
    )
    assert [(r.audience, r.unit_id) for r in moved[0].recipients] == [
        (Audience.RESPONSIBLE, "unit-2"),
        (Audience.RESPONSIBLE, "unit-1"),
    ]
    unit2 = Actor(user_id="u2", role=Role.UNIT, unit_id="unit-2")
    state, _ = act(state, RequestClosure(actor=unit2, summary="已完成"), when)
    state, verified = act(state, VerifyClosure(actor=SUPERVISOR), when)
    assert [n.kind for n in verified] == [NotificationKind.CLOSURE_VERIFIED]
    assert verified[0].recipients[0].unit_id == "unit-2"
