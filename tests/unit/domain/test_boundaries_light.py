"""The light's thresholds (domain/traffic_light.py) on their boundary days.

Calendar: weekends only, so the days can be counted by hand. Deadline Wednesday
2025-04-30; working days left on a day are those after it up to the deadline.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from domain.commands import RequestClosure, SubmitPlan
from domain.policy import CalendarPolicy, Policy
from domain.traffic_light import traffic_light
from domain.values import Milestone
from domain.vocabulary import CaseKind, TrafficLight

from .builders import UNIT, at, opened

WEEKENDS_ONLY = Policy(calendar=CalendarPolicy(use_package=False, fixed_holidays=()))
DEADLINE = date(2025, 4, 30)
GREEN, YELLOW, RED = TrafficLight.GREEN, TrafficLight.YELLOW, TrafficLight.RED


def _light(when: datetime, policy: Policy = WEEKENDS_ONLY) -> TrafficLight:
    return traffic_light(opened(policy=policy, deadline=DEADLINE).case, when, policy)


@pytest.mark.parametrize(
    ("when", "light"),
    [
        (at(2025, 4, 22), GREEN),  # six working days left
        (at(2025, 4, 23), YELLOW),  # five left: yellow_working_days
        (at(2025, 4, 24), YELLOW),  # four left
        (at(2025, 4, 30, 0), YELLOW),  # the deadline day, from its first moment
        (datetime.fromisoformat("2025-04-30T23:59:59+08:00"), YELLOW),  # to its last
        (datetime.fromisoformat("2025-04-30T15:59:59+00:00"), YELLOW),  # 23:59:59 in China
        (datetime.fromisoformat("2025-04-30T16:00:00+00:00"), RED),  # 05-01 00:00 in China
        (at(2025, 5, 1, 0), RED),  # the day after the deadline
    ],
)
def test_the_light_turns_yellow_at_five_working_days_and_red_after_the_deadline_day(
    when: datetime, light: TrafficLight
) -> None:
    assert _light(when) is light


def test_a_weekend_before_the_window_is_still_green() -> None:
    # Sunday 04-20: 04-21 to 04-25 and 04-28 to 04-30 remain, eight working days.
    assert _light(at(2025, 4, 20)) is GREEN
    # Saturday 04-26 counts as the Friday before it: three left, yellow.
    assert _light(at(2025, 4, 26)) is YELLOW


@pytest.mark.parametrize("yellow", [0, 1, 2, 10])
def test_the_yellow_threshold_is_inclusive_whatever_the_policy(yellow: int) -> None:
    policy = WEEKENDS_ONLY.model_copy(update={"yellow_working_days": yellow})
    calendar = policy.working_calendar()
    on = calendar.subtract_working_days(DEADLINE, yellow)
    before = calendar.subtract_working_days(DEADLINE, yellow + 1)
    assert calendar.working_days_between(before, DEADLINE) == yellow + 1
    assert _light(at(before.year, before.month, before.day), policy) is GREEN
    assert _light(at(on.year, on.month, on.day), policy) is YELLOW


def test_with_no_yellow_days_the_deadline_day_itself_is_yellow_and_the_eve_green() -> None:
    policy = WEEKENDS_ONLY.model_copy(update={"yellow_working_days": 0})
    assert _light(at(2025, 4, 29), policy) is GREEN
    assert _light(at(2025, 4, 30), policy) is YELLOW
    assert _light(at(2025, 5, 1), policy) is RED


def test_on_the_chinese_calendar_a_make_up_day_counts_as_a_working_day() -> None:
    """2025-04-27 (a Sunday) is a make-up working day before the May holiday: from 04-23
    six working days remain (04-24, 04-25, 04-27, 04-28, 04-29, 04-30), from 04-24 five."""
    case = opened(deadline=DEADLINE).case
    assert traffic_light(case, at(2025, 4, 23)) is GREEN
    assert traffic_light(case, at(2025, 4, 24)) is YELLOW


@pytest.mark.parametrize(
    ("when", "light"),
    [(at(2025, 4, 30, 23), YELLOW), (at(2025, 5, 1, 0), YELLOW), (at(2025, 9, 1), YELLOW)],
)
def test_a_case_awaiting_closure_verification_past_its_deadline_stays_yellow(
    when: datetime, light: TrafficLight
) -> None:
    history = opened(policy=WEEKENDS_ONLY, deadline=DEADLINE)
    history.do(SubmitPlan(actor=UNIT, plan="方案"))
    history.do(RequestClosure(actor=UNIT, summary="完成"))
    assert traffic_light(history.case, when, WEEKENDS_ONLY) is light


@pytest.mark.parametrize(
    ("when", "light"),
    [(at(2025, 6, 30, 23), GREEN), (at(2025, 7, 1, 0), YELLOW)],
)
def test_a_long_term_case_turns_yellow_the_day_after_an_unreported_milestone(
    when: datetime, light: TrafficLight
) -> None:
    milestone = Milestone(milestone_id="m1", title="清淤", due=date(2025, 6, 30))
    case = opened(
        policy=WEEKENDS_ONLY,
        kind=CaseKind.LONG_TERM,
        deadline=date(2025, 12, 31),
        milestones=(milestone,),
    ).case
    assert traffic_light(case, when, WEEKENDS_ONLY) is light


def test_no_case_at_all_is_green() -> None:
    assert traffic_light(None, at(2025, 5, 1)) is GREEN
