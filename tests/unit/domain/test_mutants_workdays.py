"""domain/workdays.py: counting from zero, negative counts refused by name, the years."""

from __future__ import annotations

from datetime import date

import pytest

from domain.workdays import CalendarYear, CountedDate, WorkingCalendar, package_years

MON = date(2030, 3, 4)  # a Monday of a year no package knows


def test_zero_working_days_is_the_start_itself() -> None:
    calendar = WorkingCalendar()
    assert calendar.add_working_days(MON, 0) == CountedDate(MON, False)
    assert calendar.subtract_working_days(MON, 0) == MON
    assert calendar.add_working_days(MON, 1) == CountedDate(date(2030, 3, 5), True)


@pytest.mark.parametrize("method", ["add_working_days", "subtract_working_days"])
def test_a_negative_count_is_refused_by_name(method: str) -> None:
    with pytest.raises(ValueError) as raised:
        getattr(WorkingCalendar(), method)(MON, -1)
    assert str(raised.value) == "count must not be negative"


def test_at_most_a_negative_count_is_refused_by_name() -> None:
    with pytest.raises(ValueError) as raised:
        WorkingCalendar().at_most_working_days(MON, MON, -1)
    assert str(raised.value) == "count must not be negative"


def test_known_years_and_the_chinese_calendars_fixed_holidays() -> None:
    year = CalendarYear(year=2030)
    assert WorkingCalendar([year]).known_years() == frozenset({2030})
    chinese = WorkingCalendar.chinese([year], fixed_holidays=((3, 5),))
    assert chinese.known_years() == frozenset({y.year for y in package_years()} | {2030})
    # 2099 is unknown: the fixed holidays given decide; the shipped ones do not.
    assert not chinese.is_working_day(date(2099, 3, 5))
    assert chinese.is_working_day(date(2099, 10, 1))
