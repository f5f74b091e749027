"""The traffic light (亮灯) and the timer schedule."""

from __future__ import annotations

from datetime import date

from domain.commands import RequestClosure, VerifyClosure, WithdrawCase
from domain.schedule import planned_steps
from domain.traffic_light import traffic_light
from domain.values import Milestone
from domain.vocabulary import CaseKind, TrafficLight

from .builders import SUPERVISOR, UNIT, at, opened, with_plan


def test_a_case_far_from_its_deadline_is_green() -> None:
    assert traffic_light(opened().case, at(2025, 3, 10)) is TrafficLight.GREEN


def test_a_case_close_to_its_deadline_is_yellow() -> None:
    assert traffic_light(opened().case, at(2025, 4, 25)) is TrafficLight.YELLOW


def test_a_case_past_its_deadline_is_red() -> None:
    case = opened().case
    assert traffic_light(case, at(2025, 4, 30, 23)) is TrafficLight.YELLOW
    assert traffic_light(case, at(2025, 5, 1, 0)) is TrafficLight.RED


def test_a_closed_or_withdrawn_case_is_grey() -> None:
    history = with_plan(opened())
    history.do(RequestClosure(actor=UNIT, summary="完成"))
    assert traffic_light(history.case, at(2025, 5, 10)) is TrafficLight.YELLOW  # awaits 验收
    history.do(VerifyClosure(actor=SUPERVISOR))
    assert traffic_light(history.case, at(2025, 5, 10)) is TrafficLight.GREY
    withdrawn = opened()
    withdrawn.do(WithdrawCase(actor=SUPERVISOR, reason="不实"))
    assert traffic_light(withdrawn.case, at(2025, 5, 10)) is TrafficLight.GREY


def test_a_long_term_case_behind_a_milestone_is_yellow() -> None:
    milestone = Milestone(milestone_id="m1", title="清淤", due=date(2025, 6, 30))
    case = opened(
        kind=CaseKind.LONG_TERM, deadline=date(2025, 12, 31), milestones=(milestone,)
    ).case
    assert traffic_light(case, at(2025, 6, 30)) is TrafficLight.GREEN
    assert traffic_light(case, at(2025, 7, 1)) is TrafficLight.YELLOW


def test_the_schedule_lists_reminders_warning_overdue_and_the_ladder_in_order() -> None:
    steps = planned_steps(opened().case)
    names = [type(s.command).__name__ for s in steps]
    assert names == [
        "SendReminder",
        "RaiseWarning",
        "SendReminder",
        "SendReminder",
        "MarkOverdue",
        "Escalate",
        "Escalate",
        "Escalate",
        "Escalate",
    ]
    # From 4-24, five working days remain: 4-25, 4-27 (a make-up day), 4-28, 4-29, 4-30.
    assert steps[0].due == date(2025, 4, 24)
    assert steps[4].due == date(2025, 5, 1)
    assert steps[5].due == date(2025, 5, 6)  # first working day after the May holiday
    assert [s.due for s in steps] == sorted(s.due for s in steps)
