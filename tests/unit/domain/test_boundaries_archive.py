"""The archive's date rules (domain/archive.py) on their boundary days: closed on time
against the original deadline, within an extension, overdue now, days to close, and
the period (year, quarter) an event counts in, all by the business date in China."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from domain.archive import ArchiveEvent, CadreArchive, Period, cadre_archive
from domain.commands import GrantExtension, RequestExtension, VerifyClosure

from .builders import SUPERVISOR, UNIT, History, at, opened, pending_closure

DEADLINE = date(2025, 4, 30)
YEAR = Period(year=2025)
EXTENDED = date(2025, 6, 30)


def _records(history: History) -> list[ArchiveEvent]:
    return [
        ArchiveEvent(event_id=f"A/{i}", stream_id="A", event=event)
        for i, event in enumerate(history.events, start=1)
    ]


def _archive(
    history: History, period: Period = YEAR, as_of: datetime | None = None
) -> CadreArchive:
    when = as_of or at(2025, 12, 31, 20)
    return cadre_archive(_records(history), "cadre-1", period, when)


def _closed_at(when: datetime, *, extended: bool = False) -> History:
    history = opened(finding_id="A", deadline=DEADLINE)
    if extended:
        history.do(RequestExtension(actor=UNIT, reason="工程量大", proposed_deadline=EXTENDED))
        history.do(GrantExtension(actor=SUPERVISOR))
    pending_closure(history, when)
    history.do(VerifyClosure(actor=SUPERVISOR), when)
    return history


ON_TIME = [
    # (closure verified at, on time, within extension)
    (at(2025, 4, 29), 1, 0),  # the day before the deadline
    (at(2025, 4, 30, 0), 1, 0),  # the deadline day
    (datetime.fromisoformat("2025-04-30T23:59:59+08:00"), 1, 0),
    (datetime.fromisoformat("2025-04-30T15:59:59+00:00"), 1, 0),  # 23:59:59 in China
    (datetime.fromisoformat("2025-04-30T16:00:00+00:00"), 0, 0),  # 05-01 00:00 in China
    (at(2025, 5, 1, 0), 0, 0),  # the day after: late, and no extension to be within
]


@pytest.mark.parametrize(("when", "on_time", "within"), ON_TIME)
def test_a_closure_is_on_time_up_to_the_end_of_the_original_deadline_day(
    when: datetime, on_time: int, within: int
) -> None:
    archive = _archive(_closed_at(when))
    assert archive.cases_closed.value == 1
    assert archive.closed_on_time.value == on_time
    assert archive.closed_within_extension.value == within


EXTENDED_CASES = [
    (at(2025, 4, 30), 1, 0),  # by the original deadline: on time, whatever the extension
    (at(2025, 5, 1), 0, 1),  # the day after the original: within the extension
    (at(2025, 6, 30, 23), 0, 1),  # the extended deadline day
    (at(2025, 7, 1, 0), 0, 0),  # the day after the extended deadline: neither
]


@pytest.mark.parametrize(("when", "on_time", "within"), EXTENDED_CASES)
def test_a_closure_is_within_an_extension_up_to_the_end_of_the_extended_deadline_day(
    when: datetime, on_time: int, within: int
) -> None:
    archive = _archive(_closed_at(when, extended=True))
    assert archive.closed_on_time.value == on_time
    assert archive.closed_within_extension.value == within


@pytest.mark.parametrize(
    ("as_of", "overdue"),
    [
        (at(2025, 4, 30, 0), 0),
        (datetime.fromisoformat("2025-04-30T23:59:59+08:00"), 0),
        (datetime.fromisoformat("2025-04-30T16:00:00+00:00"), 1),  # 05-01 00:00 in China
        (at(2025, 5, 1, 0), 1),
    ],
)
def test_an_open_case_is_overdue_now_from_the_day_after_its_deadline(
    as_of: datetime, overdue: int
) -> None:
    history = opened(finding_id="A", deadline=DEADLINE)
    assert _archive(history, as_of=as_of).overdue_now.value == overdue


@pytest.mark.parametrize(
    ("when", "days"),
    [(at(2025, 3, 3, 18), 0), (at(2025, 3, 4, 0), 1), (at(2025, 4, 2), 30)],
)
def test_days_to_close_count_calendar_days_between_the_business_dates(
    when: datetime, days: int
) -> None:
    archive = _archive(_closed_at(when))  # opened 2025-03-03 09:00
    assert archive.days_to_close.value == days


@pytest.mark.parametrize(
    ("when", "quarter"),
    [
        (at(2025, 3, 31, 23), 1),
        (at(2025, 4, 1, 0), 2),
        (datetime.fromisoformat("2025-03-31T15:59:59+00:00"), 1),  # 23:59:59 in China
        (datetime.fromisoformat("2025-03-31T16:00:00+00:00"), 2),  # 04-01 00:00 in China
        (at(2025, 6, 30, 23), 2),
        (at(2025, 7, 1, 0), 3),
    ],
)
def test_a_closure_counts_in_the_quarter_of_its_business_date(when: datetime, quarter: int) -> None:
    history = _closed_at(when)
    for q in (1, 2, 3):
        closed = _archive(history, Period(year=2025, quarter=q)).cases_closed.value
        assert closed == (1 if q == quarter else 0), q


@pytest.mark.parametrize(
    ("when", "year"),
    [
        (datetime.fromisoformat("2025-12-31T23:59:59+08:00"), 2025),
        (datetime.fromisoformat("2025-12-31T16:00:00+00:00"), 2026),  # 2026-01-01 in China
    ],
)
def test_an_event_counts_in_the_year_of_its_business_date(when: datetime, year: int) -> None:
    history = opened(finding_id="A", deadline=date(2026, 3, 31), now=when)
    as_of = at(2026, 1, 2)
    for y in (2025, 2026):
        assigned = _archive(history, Period(year=y), as_of).cases_assigned.value
        assert assigned == (1 if y == year else 0), y


@pytest.mark.parametrize(
    ("day", "quarter", "contains"),
    [
        (date(2025, 3, 31), 1, True),
        (date(2025, 4, 1), 1, False),
        (date(2025, 4, 1), 2, True),
        (date(2025, 12, 31), 4, True),
        (date(2026, 1, 1), 4, False),
        (date(2026, 1, 1), None, False),
        (date(2024, 12, 31), None, False),
    ],
)
def test_a_period_holds_the_days_of_its_year_and_quarter(
    day: date, quarter: int | None, contains: bool
) -> None:
    assert Period(year=2025, quarter=quarter).contains(day) is contains
