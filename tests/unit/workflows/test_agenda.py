"""The case clock's agenda, without Temporal: which timer comes next, when, and why."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from domain.case import CaseState, decide, evolve, fold
from domain.commands import (
    Command,
    MarkOverdue,
    OpenCase,
    RaiseWarning,
    RequestClosure,
    SendReminder,
    SubmitPlan,
)
from domain.policy import CalendarPolicy, Policy
from domain.schedule import SYSTEM_ACTOR
from domain.vocabulary import Actor, CaseStatus, Role, Source
from workflows.agenda import look_back_end, next_timer, pending_timers
from workflows.models import DecisionWatch, TimerAction

CST = timezone(timedelta(hours=8))
POLICY = Policy(calendar=CalendarPolicy(use_package=False, fixed_holidays=()))
MONDAY = date(2030, 3, 4)
SUPERVISOR = Actor(user_id="s", role=Role.SUPERVISOR)
UNIT = Actor(user_id="u", role=Role.UNIT, unit_id="unit-1")


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), CST)


def day(offset: int) -> date:
    return MONDAY + timedelta(days=offset)


def opened(deadline_offset: int) -> CaseState:
    command = OpenCase(
        actor=SUPERVISOR,
        finding_id="f-1",
        source=Source.AUDIT,
        title="问题",
        unit_id="unit-1",
        cadre_id="c-1",
        deadline=day(deadline_offset),
    )
    events = decide(None, command, at(day(0)), POLICY)
    state = fold(events)
    assert state is not None
    return state


def then(state: CaseState, command: Command | None, when: datetime) -> CaseState:
    assert command is not None
    for event in decide(state, command, when, POLICY):
        state = evolve(state, event)
    return state


def test_the_first_timer_is_the_five_day_reminder_on_the_working_day_before_a_weekend() -> None:
    state = opened(18)  # Friday of the third week
    timer = next_timer(state, POLICY, at(day(0)))
    assert timer is not None
    # planned_steps says Sunday day 13; Friday day 11 leaves the same 5 working days.
    assert (timer.action, timer.due, timer.at) == (TimerAction.REMINDER, day(11), at(day(11), 9))
    assert timer.view().working_days_before == 5


def test_reminders_whose_moment_passed_before_opening_give_way_to_the_closest_one() -> None:
    state = opened(2)  # Wednesday: two working days left
    fired = []
    while (timer := next_timer(state, POLICY, at(day(0)))) is not None and timer.at <= at(day(0)):
        fired.append(timer.command)
        state = then(state, timer.command, at(day(0)))
    # The 5-day reminder is dropped: the 3-day one is due as well.
    assert fired == [
        RaiseWarning(actor=SYSTEM_ACTOR),
        SendReminder(actor=SYSTEM_ACTOR, working_days_before=3),
    ]
    assert timer is not None
    assert (timer.action, timer.at) == (TimerAction.REMINDER, at(day(1), 9))
    assert timer.view().working_days_before == 1


def test_overdue_comes_at_midnight_after_the_deadline_and_stale_reminders_are_skipped() -> None:
    state = opened(4)  # Friday
    late = at(day(5), 5)  # Saturday 05:00: no reminder was ever sent
    timer = next_timer(state, POLICY, late)
    assert timer is not None
    assert timer.command == MarkOverdue(actor=SYSTEM_ACTOR)
    assert timer.at == at(day(5), 0)
    state = then(state, timer.command, late)
    escalation = next_timer(state, POLICY, late)
    assert escalation is not None
    assert (escalation.action, escalation.at) == (TimerAction.ESCALATION, at(day(7), 9))
    assert escalation.view().level == 1


def test_a_case_awaiting_verification_has_no_timer() -> None:
    state = opened(18)
    state = then(state, SubmitPlan(actor=UNIT, plan="方案"), at(day(1)))
    state = then(state, RequestClosure(actor=UNIT, summary="完成"), at(day(2)))
    assert state.status is CaseStatus.CLOSURE_PENDING
    assert pending_timers(state, POLICY, day(2)) == []
    assert next_timer(state, POLICY, at(day(20))) is None


def test_a_closed_case_ends_its_look_back_window_at_midnight() -> None:
    state = opened(18)
    closed = state.model_copy(update={"status": CaseStatus.CLOSED, "closed_at": at(day(3), 23)})
    end = look_back_end(closed, POLICY)
    assert end == at(day(3 + POLICY.look_back_days + 1), 0)
    timer = next_timer(closed, POLICY, at(day(4)))
    assert timer is not None
    assert (timer.action, timer.at) == (TimerAction.LOOK_BACK_END, end)


def test_a_pending_accountability_decision_reminds_every_five_working_days() -> None:
    state = opened(4)
    at_level_4 = state.model_copy(update={"overdue": True, "escalation_level": 4})
    watch = DecisionWatch(since=day(32), escalation_event_id="e-4", decisions_before=0)
    timer = next_timer(at_level_4, POLICY, at(day(33)), watch)
    assert timer is not None
    assert (timer.action, timer.at) == (TimerAction.DECISION_REMINDER, at(day(39), 9))
    second = watch.model_copy(update={"reminders_sent": 1})
    later = next_timer(at_level_4, POLICY, at(day(40)), second)
    assert later is not None
    assert later.due == day(46)
    decided = at_level_4.model_copy(update={"accountability_count": 1})
    assert next_timer(decided, POLICY, at(day(40)), second) is None
