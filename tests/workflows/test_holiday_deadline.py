"""A default deadline counted across a holiday week, with its make-up working day (调休).

The package's official calendar ends with the years already announced and the test
server's clock starts today, so a real holiday week may lie in the past. The policy
therefore carries the holiday week as an operator calendar year (the same way a new
year's State Council notice is loaded), placed relative to the test's start.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.policy import CalendarPolicy, DeadlinePolicy, Policy
from domain.vocabulary import CaseKind
from domain.workdays import CalendarYear
from store.event_store import EventStore
from tests.workflows.harness import next_monday_of, timeline

pytestmark = pytest.mark.integration

# Day offsets from the opening Monday: Sunday 13 to Saturday 19 off, Saturday 12 and
# Sunday 20 worked instead.
HOLIDAYS = range(13, 20)
MAKE_UP_DAYS = (12, 20)


def _calendar_around(start: date) -> CalendarPolicy:
    holidays = {start + timedelta(days=d) for d in HOLIDAYS}
    workdays = {start + timedelta(days=d) for d in MAKE_UP_DAYS}
    years = sorted({start.year, start.year + 1})
    return CalendarPolicy(
        use_package=False,
        fixed_holidays=(),
        years=tuple(
            CalendarYear(
                year=year,
                holidays=frozenset(d for d in holidays if d.year == year),
                workdays=frozenset(d for d in workdays if d.year == year),
            )
            for year in years
        ),
    )


async def test_a_default_deadline_crosses_a_holiday_week_and_its_timers_follow_the_calendar(
    time_skipping_env: WorkflowEnvironment, event_store: EventStore
) -> None:
    start = await next_monday_of(time_skipping_env)
    policy = Policy(deadlines=DeadlinePolicy(immediate=15), calendar=_calendar_around(start))
    async with timeline(
        time_skipping_env,
        event_store,
        deadline_offset=None,  # the kind's default: 15 working days
        kind=CaseKind.IMMEDIATE,
        policy=policy,
    ) as case:
        assert case.start == start
        opened = case.stored()[1]
        # Working days: 1-4, 7-11, 12 (make-up Saturday), 20 (make-up Sunday), 21-24.
        # Without the holiday week the 15th working day would be Monday day 21.
        assert opened["deadline"] == case.day(24).isoformat()
        assert opened["deadline_working_days"] == 15
        assert opened["deadline_provisional"] is False

        await case.advance_to(26)
        assert case.events() == [
            ("FindingRecorded", case.day(0)),
            ("CaseOpened", case.day(0)),
            # 5 working days before Thursday day 24 are 20-24: the day before them is
            # holiday Saturday 19, so the reminder goes out on make-up Saturday 12.
            ("ReminderSent", case.day(12)),
            ("WarningRaised", case.day(12)),
            ("ReminderSent", case.day(21)),
            ("ReminderSent", case.day(23)),
            ("CaseOverdue", case.day(25)),  # 00:00 Friday
            ("CaseEscalated", case.day(25)),  # 09:00: Friday is the first working day after
        ]
