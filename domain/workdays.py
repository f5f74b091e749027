"""Working days on the Chinese calendar (工作日).

A day is a working day when it is a weekday that is not a statutory holiday, or
a make-up working day (调休) announced by the State Council. The data comes from
three places, the later overriding the earlier for a whole year:

1. the ``chinese_calendar`` package, for the years it knows;
2. operator-supplied years (``CalendarYear``), e.g. the next year's notice,
   loaded from the policy file before the package is updated;
3. for any other year a *provisional* rule: weekends plus the fixed-date
   holidays. Lunar holidays (Spring Festival, Qingming, Dragon Boat,
   Mid-Autumn) cannot be placed without the notice, so a date counted across
   such a year is flagged provisional and recounted when the year arrives.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

from domain.chinese_dates import zh_date

__all__ = ["CalendarYear", "CountedDate", "InvalidRule", "WorkingCalendar", "package_years"]


class InvalidRule(ValueError):
    """A policy value that breaks a rule, said in both languages (pydantic keeps the
    exception in the error's ``ctx``, so a policy file's errors can be told in either)."""

    def __init__(self, code: str, zh: str, en: str) -> None:
        super().__init__(en)
        self.code = code
        self.zh = zh
        self.en = en


# 元旦, 劳动节 (two days since 2025), 国庆节: the holidays that fall on fixed dates.
DEFAULT_FIXED_HOLIDAYS: tuple[tuple[int, int], ...] = (
    (1, 1),
    (5, 1),
    (5, 2),
    (10, 1),
    (10, 2),
    (10, 3),
)


class CalendarYear(BaseModel):
    """One year's official calendar: its holidays and its make-up working days."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    year: int = Field(ge=1900, le=2200)
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()  # 调休: weekend days that are working days

    @model_validator(mode="after")
    def _dates_in_year(self) -> CalendarYear:
        for day in self.holidays | self.workdays:
            if day.year != self.year:
                raise InvalidRule(
                    "date_outside_year",
                    f"{zh_date(day)} 不在 {self.year} 年内",
                    f"{day} is not in {self.year}",
                )
        if self.holidays & self.workdays:
            both = sorted(self.holidays & self.workdays)
            both_zh = "、".join(zh_date(d) for d in both)
            both_en = ", ".join(d.isoformat() for d in both)
            raise InvalidRule(
                "holiday_and_workday",
                f"{both_zh} 不能既是节假日又是调休上班日",
                f"{both_en} cannot be both a holiday and a make-up working day",
            )
        return self

    @field_serializer("holidays", "workdays")
    def _in_order(self, days: frozenset[date]) -> list[date]:
        """Sorted: a set's order is not stable, and a policy's hash covers these."""
        return sorted(days)


@dataclass(frozen=True, slots=True)
class CountedDate:
    """A date counted in working days, flagged when a provisional year was crossed."""

    date: date
    provisional: bool


@lru_cache(maxsize=1)
def package_years() -> tuple[CalendarYear, ...]:
    """The years the ``chinese_calendar`` package knows (imported lazily: pure data)."""
    try:
        from chinese_calendar import constants
    except ImportError:  # pragma: no cover - the package is a declared dependency
        return ()
    holidays: dict[int, set[date]] = {}
    workdays: dict[int, set[date]] = {}
    for day in constants.holidays:
        holidays.setdefault(day.year, set()).add(day)
    for day in constants.workdays:
        workdays.setdefault(day.year, set()).add(day)
    return tuple(
        CalendarYear(
            year=year,
            holidays=frozenset(holidays.get(year, ())),
            workdays=frozenset(workdays.get(year, ())),
        )
        for year in sorted(holidays.keys() | workdays.keys())
    )


class WorkingCalendar:
    """Answers "is this a working day" and counts working days, flagging guesses."""

    def __init__(
        self,
        years: Iterable[CalendarYear] = (),
        fixed_holidays: Iterable[tuple[int, int]] = DEFAULT_FIXED_HOLIDAYS,
    ) -> None:
        self._years: dict[int, CalendarYear] = {}
        for year in years:  # later entries override earlier ones for the whole year
            self._years[year.year] = year
        self._fixed = frozenset(fixed_holidays)

    @classmethod
    def chinese(
        cls,
        extra_years: Iterable[CalendarYear] = (),
        fixed_holidays: Iterable[tuple[int, int]] = DEFAULT_FIXED_HOLIDAYS,
    ) -> WorkingCalendar:
        return cls((*package_years(), *extra_years), fixed_holidays)

    def known_years(self) -> frozenset[int]:
        return frozenset(self._years)

    def is_provisional(self, day: date) -> bool:
        return day.year not in self._years

    def is_working_day(self, day: date) -> bool:
        year = self._years.get(day.year)
        if year is not None:
            if day in year.workdays:
                return True
            return day.weekday() < 5 and day not in year.holidays
        return day.weekday() < 5 and (day.month, day.day) not in self._fixed

    def add_working_days(self, start: date, count: int) -> CountedDate:
        """The ``count``-th working day after ``start`` (``start`` itself not counted).

        ``count == 0`` gives ``start``.
        """
        if count < 0:
            raise ValueError("count must not be negative")
        day, provisional = start, False
        remaining = count
        while remaining:
            day += timedelta(days=1)
            provisional = provisional or self.is_provisional(day)
            if self.is_working_day(day):
                remaining -= 1
        return CountedDate(day, provisional)

    def subtract_working_days(self, end: date, count: int) -> date:
        """The latest day from which ``(day, end]`` holds ``count`` working days."""
        if count < 0:
            raise ValueError("count must not be negative")
        day, remaining = end, count
        while remaining:
            if self.is_working_day(day):
                remaining -= 1
            day -= timedelta(days=1)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in ``(start, end]``; negative when ``end`` is before ``start``."""
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def at_most_working_days(self, start: date, end: date, count: int) -> bool:
        """Whether ``(start, end]`` holds at most ``count`` working days, as
        ``working_days_between(start, end) <= count`` says, counting no further than
        ``count``: a deadline months away is settled after a few days, not walked to."""
        if count < 0:
            raise ValueError("count must not be negative")
        found, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                found += 1
                if found > count:
                    return False
        return True
