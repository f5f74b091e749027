"""Policies as data: deadlines, reminders, lights, escalation, caps, the calendar.

Every number has a default and a validator; an operator file (TOML) overrides
any of them. Example::

    extension_cap = 3
    reminder_working_days = [5, 1]

    [deadlines]
    immediate = 10

    [[escalation]]
    level = 1
    working_days_after_deadline = 1

    [[calendar.years]]          # the State Council notice for a new year
    year = 2027
    holidays = [2027-01-01, 2027-02-06]
    workdays = [2027-02-14]
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.vocabulary import CaseKind, EscalationLevel
from domain.workdays import (
    DEFAULT_FIXED_HOLIDAYS,
    CalendarYear,
    CountedDate,
    WorkingCalendar,
)

__all__ = [
    "DEFAULT_POLICY",
    "CalendarPolicy",
    "DeadlinePolicy",
    "EscalationStep",
    "Policy",
    "load_policy",
    "policy_from_toml",
]

_Frozen = ConfigDict(frozen=True, extra="forbid")


class CalendarPolicy(BaseModel):
    model_config = _Frozen

    use_package: bool = True  # start from the chinese_calendar package's years
    years: tuple[CalendarYear, ...] = ()  # operator additions and corrections, per whole year
    fixed_holidays: tuple[tuple[int, int], ...] = DEFAULT_FIXED_HOLIDAYS  # for unknown years

    @field_validator("fixed_holidays")
    @classmethod
    def _valid_month_days(cls, value: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
        for month, day in value:
            date(2024, month, day)  # a leap year, so 2-29 passes; raises on nonsense
        return value

    def calendar(self) -> WorkingCalendar:
        return _build_calendar(self)


@lru_cache(maxsize=8)
def _build_calendar(policy: CalendarPolicy) -> WorkingCalendar:
    if policy.use_package:
        return WorkingCalendar.chinese(policy.years, policy.fixed_holidays)
    return WorkingCalendar(policy.years, policy.fixed_holidays)


class DeadlinePolicy(BaseModel):
    """Default deadlines by kind, in working days from the day the case opens."""

    model_config = _Frozen

    immediate: int = Field(default=10, ge=1, le=1_000)  # 立行立改
    time_limited: int = Field(default=60, ge=1, le=1_000)  # 限期整改
    long_term: int = Field(default=250, ge=1, le=5_000)  # 长期整改: about a year

    def working_days(self, kind: CaseKind) -> int:
        return {
            CaseKind.IMMEDIATE: self.immediate,
            CaseKind.TIME_LIMITED: self.time_limited,
            CaseKind.LONG_TERM: self.long_term,
        }[kind]


class EscalationStep(BaseModel):
    model_config = _Frozen

    level: EscalationLevel
    working_days_after_deadline: int = Field(ge=1, le=1_000)


_DEFAULT_LADDER = (
    EscalationStep(level=EscalationLevel.URGE, working_days_after_deadline=1),
    EscalationStep(level=EscalationLevel.FORMAL_SUPERVISION, working_days_after_deadline=5),
    EscalationStep(level=EscalationLevel.LISTED_SUPERVISION, working_days_after_deadline=10),
    EscalationStep(
        level=EscalationLevel.ACCOUNTABILITY_RECOMMENDED, working_days_after_deadline=20
    ),
)


@lru_cache(maxsize=32)
def _zone(utc_offset_hours: int) -> timezone:
    """The fixed zone of an offset (made once: ``today`` runs for every event a fold reads)."""
    return timezone(timedelta(hours=utc_offset_hours))


class Policy(BaseModel):
    model_config = _Frozen

    deadlines: DeadlinePolicy = DeadlinePolicy()
    # Reminders this many working days before the deadline.
    reminder_working_days: tuple[int, ...] = (5, 3, 1)
    # Yellow when this many working days or fewer remain (the deadline day counts).
    yellow_working_days: int = Field(default=5, ge=0, le=1_000)
    escalation: tuple[EscalationStep, ...] = _DEFAULT_LADDER
    extension_cap: int = Field(default=2, ge=0, le=100)
    look_back_days: int = Field(default=180, ge=0, le=3_650)  # 回头看, calendar days
    duplicate_threshold: Decimal = Field(default=Decimal("0.6"), ge=0, le=1)
    utc_offset_hours: int = Field(default=8, ge=-12, le=14)  # China has one zone, no DST
    calendar: CalendarPolicy = CalendarPolicy()

    @field_validator("reminder_working_days")
    @classmethod
    def _positive_unique(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(days < 1 for days in value) or len(set(value)) != len(value):
            raise ValueError("reminder offsets must be distinct positive working-day counts")
        return tuple(sorted(value, reverse=True))

    @field_validator("escalation")
    @classmethod
    def _ladder(cls, value: tuple[EscalationStep, ...]) -> tuple[EscalationStep, ...]:
        levels = [step.level for step in value]
        if levels != sorted(set(levels)) or (levels and levels[0] != 1):
            raise ValueError("escalation levels must start at 1 and rise one by one")
        if levels != list(range(1, len(levels) + 1)):
            raise ValueError("escalation levels must have no gaps")
        days = [step.working_days_after_deadline for step in value]
        if days != sorted(set(days)):
            raise ValueError("each escalation level must come strictly later than the last")
        return value

    # -- derived ------------------------------------------------------------------------

    def working_calendar(self) -> WorkingCalendar:
        return self.calendar.calendar()

    def today(self, now: datetime) -> date:
        """The business date of a moment, in China Standard Time (naive = already local)."""
        return self.business_dates((now,))[0]

    def business_dates(self, moments: Iterable[datetime]) -> list[date]:
        """``[today(m) for m in moments]``, the zone looked up once: a fold asks for the
        date of every event it reads. A moment already at the zone's offset (as the
        log's are) is in the zone: its own date is the business date."""
        zone = _zone(self.utc_offset_hours)
        offset = zone.utcoffset(None)
        days = []
        for moment in moments:
            at = moment.utcoffset()
            if at is None or at == offset:  # naive = already local
                days.append(moment.date())
            else:
                days.append(moment.astimezone(zone).date())
        return days

    def start_of(self, day: date) -> datetime:
        """The first moment of a business date, as an aware datetime (for timers)."""
        return datetime.combine(day, time(), _zone(self.utc_offset_hours))

    def default_deadline(self, kind: CaseKind, start: date) -> CountedDate:
        return self.working_calendar().add_working_days(start, self.deadlines.working_days(kind))

    def escalation_step(self, level: int) -> EscalationStep | None:
        return next((step for step in self.escalation if step.level == level), None)


DEFAULT_POLICY = Policy()


def policy_from_toml(text: str) -> Policy:
    data: dict[str, Any] = tomllib.loads(text)
    return Policy.model_validate(data)


def load_policy(path: Path | str) -> Policy:
    return policy_from_toml(Path(path).read_text(encoding="utf-8"))
