"""A year of twenty cases over four cadres; the archive's figures worked out by hand."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine, text

from domain.archive import CadreArchive, Period
from store.event_store import EventStore
from store.projections.cadre_archive import read_archive

from .helpers import Steps, at, catch_up, scripted

pytestmark = pytest.mark.integration

T = uuid.uuid4().hex[:6]
UNIT_OF = {"a": "ua", "b": "ub", "c": "uc", "d": "ud"}


def _run(store: EventStore, name: str, cadre: str, steps: Steps) -> None:
    scripted(store, f"Y{T}-{name}", UNIT_OF[cadre], f"{cadre}{T}", steps, ("ua", f"a{T}"))


ON_TIME = [(at(2025, 4, 9), "request"), (at(2025, 4, 10), "verify")]  # 38 days
LATE = [
    (at(2025, 5, 6), "overdue"),
    (at(2025, 5, 8), "escalate1"),
    (at(2025, 5, 19), "request"),
    (at(2025, 5, 20), "verify"),
]  # 78 days
EXTENDED = [
    (at(2025, 4, 20), "extend"),
    (at(2025, 4, 21), "grant"),
    (at(2025, 6, 9), "request"),
    (at(2025, 6, 10), "verify"),
]  # 99 days


@pytest.fixture(scope="module")
def archives(engine: Engine) -> dict[str, CadreArchive]:
    store = EventStore(engine, notify=False)
    for n in range(1, 6):
        _run(store, f"a{n}", "a", ON_TIME)
    _run(store, "b1", "b", LATE)
    _run(store, "b2", "b", LATE)
    _run(store, "b3", "b", EXTENDED)
    _run(store, "b4", "b", EXTENDED)
    _run(store, "b5", "b", [*ON_TIME, (at(2025, 5, 1), "reopen"), (at(2025, 7, 2), "overdue")])
    _run(
        store,
        "c1",
        "c",
        [
            (at(2025, 4, 1), "request"),
            (at(2025, 4, 2), "reject"),
            (at(2025, 4, 15), "request"),
            (at(2025, 4, 16), "verify"),
        ],
    )  # 44 days
    _run(store, "c2", "c", [(at(2025, 3, 20), "withdraw")])
    _run(store, "c3", "c", [*ON_TIME, (at(2025, 4, 20), "satisfaction80")])
    _run(store, "c4", "c", [*ON_TIME, (at(2025, 4, 20), "satisfaction90")])
    _run(store, "c5", "c", [(at(2025, 5, 6), "overdue"), (at(2025, 5, 9), "accountability")])
    _run(
        store,
        "d1",
        "d",
        [
            (at(2025, 4, 1), "extend"),
            (at(2025, 4, 5), "transfer"),
            (at(2025, 4, 7), "grant"),
            (at(2025, 5, 19), "request"),
            (at(2025, 5, 20), "verify"),
        ],
    )  # 78 days, for cadre a
    _run(store, "d2", "d", ON_TIME)
    _run(
        store,
        "d3",
        "d",
        [(at(2025, 5, 6), "overdue"), (at(2025, 5, 8), "escalate1"), (at(2025, 5, 9), "tolerance")],
    )
    _run(store, "d4", "d", [])
    _run(store, "d5", "d", [])
    catch_up(engine, batch_size=9)
    found = {}
    for cadre in "abcd":
        archive = read_archive(engine, f"{cadre}{T}", Period(year=2025))
        assert archive is not None
        found[cadre] = archive
    return found


FIGURES = (
    "cases_assigned",
    "cases_closed",
    "closed_on_time",
    "closed_within_extension",
    "overdue_now",
    "highest_escalation_level",
    "extensions_requested",
    "extensions_granted",
    "closures_sent_back",
    "reopened_after_look_back",
    "days_to_close",
    "satisfaction_visits",
    "accountability_actions",
    "exemptions",
)

BY_HAND = {
    # assigned closed on-time in-ext overdue top ext-req ext-granted sent-back reopened
    # days sat acc exempt
    "a": (6, 6, 5, 1, 0, 0, 0, 1, 0, 0, 5 * 38 + 78, 0, 0, 0),
    "b": (5, 5, 1, 2, 1, 1, 2, 2, 0, 1, 2 * 78 + 2 * 99 + 38, 0, 0, 0),
    "c": (4, 3, 3, 0, 1, 0, 0, 0, 1, 0, 44 + 38 + 38, 2, 1, 0),
    "d": (5, 1, 1, 0, 3, 1, 1, 0, 0, 0, 38, 0, 0, 1),  # d3, d4, d5 past 30 April
}
AVERAGES = {
    "a": ("44.67", None),
    "b": ("78.40", None),
    "c": ("40.00", "85.00"),
    "d": ("38.00", None),
}


@pytest.mark.parametrize("cadre", "abcd")
def test_the_archive_has_the_figures_worked_out_by_hand(
    archives: dict[str, CadreArchive], cadre: str
) -> None:
    archive = archives[cadre]
    figures = tuple(getattr(archive, name).value for name in FIGURES)
    assert dict(zip(FIGURES, figures, strict=True)) == dict(
        zip(FIGURES, BY_HAND[cadre], strict=True)
    )
    assert (archive.average_days_to_close, archive.average_satisfaction_percent) == AVERAGES[cadre]


def test_levels_and_actions_are_counted_per_kind(archives: dict[str, CadreArchive]) -> None:
    assert archives["b"].escalations_by_level["1"].value == 2
    assert archives["d"].escalations_by_level["1"].value == 1
    assert archives["c"].accountability_by_action["admonishment_talk"].value == 1


def test_every_figure_links_to_events_in_the_log(
    engine: Engine, archives: dict[str, CadreArchive]
) -> None:
    with engine.connect() as conn:
        stored = {str(r[0]) for r in conn.execute(text("SELECT event_id FROM events"))}
    for archive in archives.values():
        for name in FIGURES:
            figure = getattr(archive, name)
            assert set(figure.event_ids) <= stored
            assert (figure.value == 0) == (not figure.event_ids)
        assert {entry.event_id for entry in archive.timeline} <= stored


def test_a_quarter_holds_only_its_own_events(
    engine: Engine, archives: dict[str, CadreArchive]
) -> None:
    q2 = read_archive(engine, f"a{T}", Period(year=2025, quarter=2))
    assert q2 is not None
    assert q2.cases_closed.value == 6  # all closures fell in April and May
    assert q2.cases_assigned.value == 1  # the transfer of 5 April
