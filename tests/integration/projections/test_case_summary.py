"""Case summary: what the case list and the duplicate check read."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import Engine, text

from domain.commands import RequestClosure, SubmitPlan, TransferResponsibility, VerifyClosure
from domain.vocabulary import CaseStatus, Source, TrafficLight
from store.event_store import EventStore
from store.projections.case_summary import (
    CaseFilters,
    InvalidCursor,
    list_cases,
    open_cases_of_unit,
)

from .helpers import SUPERVISOR, Case, at, catch_up, open_command, unit_actor

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cases(engine: Engine) -> list[str]:
    store = EventStore(engine, notify=False)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO units (unit_id, name, parent_id, path) VALUES "
                "('prov', '省', NULL, '/prov/'), ('city_a', '市', 'prov', '/prov/city_a/'), "
                "('cityxb', '市', 'prov', '/prov/cityxb/')"
            )
        )
    tag = uuid.uuid4().hex[:6]
    ids = []
    for n in range(12):
        finding = f"S{tag}-{n:02d}"
        unit = "city_a" if n % 2 else "cityxb"
        case = Case(store, finding)
        case.do(
            open_command(
                finding,
                unit_id=unit,
                cadre_id=f"c{n % 3}",
                deadline=date(2025, 4, 1 + n),
                source=Source.AUDIT if n % 3 == 0 else Source.INSPECTION,
            ),
            at(2025, 3, 3 + n),
        )
        if n % 4 == 0:
            case.do(SubmitPlan(actor=unit_actor(unit), plan="方案"), at(2025, 3, 20))
            case.do(RequestClosure(actor=unit_actor(unit), summary="完成"), at(2025, 3, 21))
            case.do(VerifyClosure(actor=SUPERVISOR), at(2025, 3, 22))
        ids.append(finding)
    transfer = Case(store, f"S{tag}-T")
    transfer.do(open_command(f"S{tag}-T", unit_id="cityxb"), at(2025, 3, 3))
    transfer.do(
        TransferResponsibility(actor=SUPERVISOR, unit_id="city_a", cadre_id="c9", reason="移交"),
        at(2025, 3, 5),
    )
    ids.append(f"S{tag}-T")
    catch_up(engine, batch_size=7)
    return ids


def test_every_case_is_summarised_with_its_state(engine: Engine, cases: list[str]) -> None:
    page = list_cases(engine, limit=100)
    by_id = {row.case_id: row for row in page.items}
    assert set(cases) <= set(by_id)
    closed = by_id[cases[0]]
    assert closed.status is CaseStatus.CLOSED
    assert closed.light is TrafficLight.GREY
    moved = by_id[cases[-1]]
    assert (moved.unit_id, moved.cadre_id) == ("city_a", "c9")
    assert by_id[cases[3]].sources == (Source.AUDIT,)


def test_pages_follow_the_cursor_without_repeats_in_every_sort(
    engine: Engine, cases: list[str]
) -> None:
    for sort in ("deadline", "-deadline", "last_activity", "-opened_at"):
        seen: list[str] = []
        cursor = None
        while True:
            page = list_cases(engine, CaseFilters(), sort, cursor, limit=5)
            seen.extend(row.case_id for row in page.items)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert sorted(seen) == sorted(set(seen))
        assert set(cases) <= set(seen)
    deadlines = [r.deadline for r in list_cases(engine, sort="deadline", limit=100).items]
    assert deadlines == sorted(deadlines, key=lambda d: d or date.max)


def test_filters_narrow_the_list(engine: Engine, cases: list[str]) -> None:
    def ids(filters: CaseFilters) -> set[str]:
        return {r.case_id for r in list_cases(engine, filters, limit=1000).items}

    assert ids(CaseFilters(unit_path="/prov/city_a/")) == {
        c for i, c in enumerate(cases) if i % 2 or c.endswith("-T")
    }  # "_" is no wildcard: /prov/cityxb/ stays out
    assert ids(CaseFilters(statuses=frozenset({CaseStatus.CLOSED}))) == {
        cases[0],
        cases[4],
        cases[8],
    }
    assert ids(CaseFilters(source=Source.AUDIT)) == {cases[i] for i in (0, 3, 6, 9)}
    assert ids(CaseFilters(cadre_id="c9")) == {cases[-1]}
    late = ids(CaseFilters(overdue=True, today=date(2025, 4, 6)))
    assert late == {cases[i] for i in (1, 2, 3)}
    window = CaseFilters(deadline_from=date(2025, 4, 2), deadline_to=date(2025, 4, 3))
    assert ids(window) == {cases[1], cases[2]}
    assert ids(CaseFilters(unit_ids=frozenset({"nowhere"}))) == set()


def test_open_cases_of_a_unit_are_what_the_duplicate_check_reads(
    engine: Engine, cases: list[str]
) -> None:
    found = open_cases_of_unit(engine, "city_a")
    assert {c.case_id for c in found} == {c for i, c in enumerate(cases) if i % 2} | {cases[-1]}
    assert all(c.unit_id == "city_a" and c.title for c in found)


def test_a_foreign_or_broken_cursor_is_refused(engine: Engine, cases: list[str]) -> None:
    page = list_cases(engine, sort="deadline", limit=2)
    assert page.next_cursor is not None
    with pytest.raises(InvalidCursor):
        list_cases(engine, sort="last_activity", cursor=page.next_cursor)
    with pytest.raises(InvalidCursor):
        list_cases(engine, cursor="not-a-cursor!")
