"""The read models that repeat a date rule, on its boundary: the case summary's light
and overdue columns (and the list's ``overdue`` filter), the unit board's closures on
time, the cadre archive's on time and overdue now. Cases are scripted through the
domain's ``decide`` and folded by the projections from the real log (no Temporal).

Deadline 2025-04-30 on the Chinese calendar: 2025-04-27 (a Sunday) is a make-up working
day, so from 04-24 five working days remain (yellow) and from 04-23 six (green).
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import Engine

from domain.archive import Period
from domain.commands import MarkOverdue, ReportProgress, RequestClosure, VerifyClosure
from domain.vocabulary import TrafficLight
from store.event_store import EventStore
from store.projections.cadre_archive import read_archive
from store.projections.case_summary import CaseFilters, CaseRow, list_cases
from store.projections.lag import projection_lag
from store.projections.unit_board import read_board

from .helpers import SUPERVISOR, SYSTEM, Case, at, catch_up, scripted, unit_actor

pytestmark = pytest.mark.integration

LAST_MOMENT = datetime.fromisoformat("2025-04-30T23:59:59+08:00")
FIRST_LATE = datetime.fromisoformat("2025-04-30T16:00:00+00:00")  # 05-01 00:00 in China


def _progress(case: Case, when: datetime) -> None:
    assert case.state is not None
    case.do(ReportProgress(actor=unit_actor(case.state.unit_id), text="进展"), when)


def _closed(store: EventStore, name: str, when: datetime) -> Case:
    """A case of its own unit and cadre, closed (verified) at ``when``."""
    case = scripted(store, f"RB-{name}", f"unit-{name}", f"cadre-{name}", [])
    case.do(RequestClosure(actor=unit_actor(f"unit-{name}"), summary="完成"), when)
    case.do(VerifyClosure(actor=SUPERVISOR), when)
    return case


@pytest.fixture(scope="module")
def streams(engine: Engine) -> dict[str, str]:
    store = EventStore(engine, notify=False)
    made: dict[str, Case] = {}
    # Lights: each case's last event is the moment named.
    for name, when in {
        "six-left": at(2025, 4, 23, 10),
        "five-left": at(2025, 4, 24, 10),
        "deadline-day": LAST_MOMENT,
    }.items():
        case = scripted(store, f"RB-{name}", f"unit-{name}", f"cadre-{name}", [])
        _progress(case, when)
        made[name] = case
    late = scripted(store, "RB-late", "unit-late", "cadre-late", [])
    late.do(MarkOverdue(actor=SYSTEM), FIRST_LATE)
    made["late"] = late
    # Closures on both sides of the deadline day's end.
    made["closed-on-deadline"] = _closed(store, "closed-on-deadline", LAST_MOMENT)
    made["closed-after"] = _closed(store, "closed-after", FIRST_LATE)
    made["closed-day-before"] = _closed(store, "closed-day-before", at(2025, 4, 29))
    for _ in range(50):  # until every projection has read the whole log
        catch_up(engine)
        if not any(lag.events_behind for lag in projection_lag(engine)):
            break
    return {name: case.stream_id for name, case in made.items()}


def _row(engine: Engine, stream_id: str) -> CaseRow:
    rows = list_cases(engine, limit=1000).items
    (row,) = [r for r in rows if r.stream_id == stream_id]
    return row


@pytest.mark.parametrize(
    ("name", "light", "overdue"),
    [
        ("six-left", TrafficLight.GREEN, False),
        ("five-left", TrafficLight.YELLOW, False),
        ("deadline-day", TrafficLight.YELLOW, False),
        ("late", TrafficLight.RED, True),
    ],
)
def test_the_case_summary_lights_each_case_as_the_domain_does_on_the_boundary_days(
    engine: Engine, streams: dict[str, str], name: str, light: TrafficLight, overdue: bool
) -> None:
    row = _row(engine, streams[name])
    assert (row.light, row.overdue) == (light, overdue)


@pytest.mark.parametrize(
    ("today", "overdue"),
    [(date(2025, 4, 29), False), (date(2025, 4, 30), False), (date(2025, 5, 1), True)],
)
def test_the_list_counts_an_open_case_overdue_from_the_day_after_its_deadline(
    engine: Engine, streams: dict[str, str], today: date, overdue: bool
) -> None:
    found = list_cases(engine, CaseFilters(overdue=True, today=today), limit=1000).items
    open_ids = {streams[n] for n in ("six-left", "five-left", "deadline-day", "late")}
    assert {r.stream_id for r in found} & open_ids == (open_ids if overdue else set())
    not_found = list_cases(engine, CaseFilters(overdue=False, today=today), limit=1000).items
    assert {r.stream_id for r in not_found} & open_ids == (set() if overdue else open_ids)
    closed = {streams["closed-on-deadline"], streams["closed-after"]}
    assert not {r.stream_id for r in found} & closed  # a closed case is never overdue


@pytest.mark.parametrize(
    ("name", "on_time"),
    [("closed-day-before", 1), ("closed-on-deadline", 1), ("closed-after", 0)],
)
def test_the_unit_board_counts_a_closure_on_time_to_the_end_of_the_deadline_day(
    engine: Engine, streams: dict[str, str], name: str, on_time: int
) -> None:
    (row,), total = read_board(engine, [f"unit-{name}"])
    assert (row.closed, row.closed_on_time) == (1, on_time)
    assert row.on_time_rate == ("1.0000" if on_time else "0.0000")
    assert total.closed_on_time == on_time


def test_the_board_rate_over_the_three_closures_is_two_thirds(
    engine: Engine, streams: dict[str, str]
) -> None:
    units = ["unit-closed-day-before", "unit-closed-on-deadline", "unit-closed-after"]
    _, total = read_board(engine, units)
    assert (total.closed, total.closed_on_time, total.on_time_rate) == (3, 2, "0.6667")


@pytest.mark.parametrize(
    ("name", "on_time"),
    [("closed-day-before", 1), ("closed-on-deadline", 1), ("closed-after", 0)],
)
def test_the_cadre_archive_counts_a_closure_on_time_to_the_end_of_the_deadline_day(
    engine: Engine, streams: dict[str, str], name: str, on_time: int
) -> None:
    archive = read_archive(engine, f"cadre-{name}", Period(year=2025))
    assert archive is not None
    assert archive.cases_closed.value == 1
    assert archive.closed_on_time.value == on_time
    assert archive.closed_within_extension.value == 0


@pytest.mark.parametrize(("name", "overdue"), [("deadline-day", 0), ("late", 1)])
def test_the_cadre_archive_counts_overdue_now_from_the_day_after_the_deadline(
    engine: Engine, streams: dict[str, str], name: str, overdue: int
) -> None:
    archive = read_archive(engine, f"cadre-{name}", Period(year=2025))
    assert archive is not None
    assert archive.overdue_now.value == overdue
