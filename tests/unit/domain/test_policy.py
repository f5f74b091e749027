"""Policies as data, and the working-day calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.policy import DEFAULT_POLICY, Policy, policy_from_toml
from domain.vocabulary import CaseKind
from domain.workdays import CalendarYear, WorkingCalendar

from .builders import at


def test_the_defaults_follow_the_domain() -> None:
    policy = DEFAULT_POLICY
    assert policy.deadlines.working_days(CaseKind.IMMEDIATE) == 10
    assert policy.deadlines.working_days(CaseKind.TIME_LIMITED) == 60
    assert policy.extension_cap == 2
    assert [step.level for step in policy.escalation] == [1, 2, 3, 4]


def test_a_policy_loads_from_a_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        """
extension_cap = 3
reminder_working_days = [1, 5]
duplicate_threshold = "0.7"

[deadlines]
immediate = 5

[[escalation]]
level = 1
working_days_after_deadline = 2

[[calendar.years]]
year = 2030
holidays = [2030-01-01, 2030-02-04]
workdays = [2030-02-09]
""",
        encoding="utf-8",
    )
    policy = policy_from_toml(path.read_text(encoding="utf-8"))
    assert policy.extension_cap == 3
    assert policy.reminder_working_days == (5, 1)
    assert policy.duplicate_threshold == Decimal("0.7")
    assert policy.deadlines.immediate == 5
    assert policy.deadlines.time_limited == 60  # untouched defaults stay
    calendar = policy.working_calendar()
    assert not calendar.is_working_day(date(2030, 2, 4))  # a Monday, declared holiday
    assert calendar.is_working_day(date(2030, 2, 9))  # a Saturday, make-up day
    assert not calendar.is_provisional(date(2030, 2, 4))


@pytest.mark.parametrize(
    "text",
    [
        "extension_cap = -1",
        "reminder_working_days = [0]",
        "[[escalation]]\nlevel = 2\nworking_days_after_deadline = 1",
        "[[escalation]]\nlevel = 1\nworking_days_after_deadline = 5\n"
        "[[escalation]]\nlevel = 2\nworking_days_after_deadline = 5",
        "unknown_knob = 1",
        "[calendar]\nfixed_holidays = [[2, 30]]",
        "[[calendar.years]]\nyear = 2030\nholidays = [2031-01-01]",
    ],
)
def test_an_invalid_policy_is_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        policy_from_toml(text)


def test_the_package_calendar_knows_make_up_working_days() -> None:
    calendar = DEFAULT_POLICY.working_calendar()
    assert calendar.is_working_day(date(2025, 4, 27))  # a Sunday worked for Labour Day
    assert not calendar.is_working_day(date(2025, 5, 5))  # a Monday off
    assert not calendar.is_provisional(date(2025, 5, 5))


def test_an_unknown_year_falls_back_to_weekends_and_fixed_date_holidays() -> None:
    calendar = WorkingCalendar()
    assert calendar.is_provisional(date(2031, 3, 3))
    assert not calendar.is_working_day(date(2031, 10, 1))
    assert not calendar.is_working_day(date(2031, 3, 1))  # a Saturday
    assert calendar.is_working_day(date(2031, 3, 3))


def test_an_operator_year_overrides_the_package_year() -> None:
    correction = CalendarYear(year=2025, holidays=frozenset({date(2025, 3, 3)}))
    calendar = WorkingCalendar.chinese((correction,))
    assert not calendar.is_working_day(date(2025, 3, 3))
    assert not calendar.is_working_day(date(2025, 4, 27))  # the package's make-up day is gone


def test_counting_crosses_into_a_provisional_year_and_says_so() -> None:
    counted = DEFAULT_POLICY.working_calendar().add_working_days(date(2026, 12, 28), 5)
    assert counted.provisional
    assert counted.date == date(2027, 1, 5)  # 12-29, 12-30, 12-31, (1-1 off), 1-4, 1-5


def test_the_business_date_is_chinas() -> None:
    late_utc = at(2025, 3, 4, 1).astimezone(tz=None)
    assert DEFAULT_POLICY.today(late_utc) == date(2025, 3, 4)
    assert DEFAULT_POLICY.start_of(date(2025, 3, 4)) == at(2025, 3, 4, 0)


def test_a_policy_with_a_two_rung_ladder_is_valid() -> None:
    policy = Policy.model_validate(
        {
            "escalation": [
                {"level": 1, "working_days_after_deadline": 1},
                {"level": 2, "working_days_after_deadline": 3},
            ]
        }
    )
    assert policy.escalation_step(3) is None


@given(
    start=st.dates(min_value=date(2023, 1, 1), max_value=date(2027, 12, 31)),
    span=st.integers(-20, 400),
    count=st.integers(0, 12),
)
def test_at_most_working_days_agrees_with_counting_them_all(
    start: date, span: int, count: int
) -> None:
    calendar = DEFAULT_POLICY.working_calendar()  # the package years, Spring Festival included
    end = start + timedelta(days=span)
    expected = calendar.working_days_between(start, end) <= count
    assert calendar.at_most_working_days(start, end, count) is expected


def test_at_most_working_days_refuses_a_negative_count() -> None:
    with pytest.raises(ValueError, match="negative"):
        DEFAULT_POLICY.working_calendar().at_most_working_days(
            date(2025, 1, 1), date(2025, 2, 1), -1
        )


_OFFSETS = st.integers(-12 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


@given(
    st.lists(st.one_of(st.datetimes(), st.datetimes(timezones=_OFFSETS)), max_size=20),
    st.integers(-12, 14),
)
def test_business_dates_are_the_dates_in_the_policys_zone(
    moments: list[datetime], hours: int
) -> None:
    # the shortcut for a moment already at the zone's offset gives what converting does
    policy = Policy(utc_offset_hours=hours)
    zone = timezone(timedelta(hours=hours))
    expected = [m.date() if m.tzinfo is None else m.astimezone(zone).date() for m in moments]
    assert policy.business_dates(moments) == expected
    assert [policy.today(m) for m in moments] == expected
