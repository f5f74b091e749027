"""The unit board's figures for a scripted set of cases, worked out by hand: lights,
red cases by escalation level, closures on time, a transfer and a withdrawal."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from store.event_store import EventStore
from store.projections.rebuild import rebuild_all
from store.projections.unit_board import BoardFigures, read_board

from .helpers import Case, Steps, advance, at, catch_up, scripted

pytestmark = pytest.mark.integration

TO_SOUTH = ("south", "cadre-s1")
ZERO = dict.fromkeys(BoardFigures.model_fields, 0) | {"on_time_rate": None}


def _case(store: EventStore, name: str, unit: str, steps: Steps) -> Case:
    return scripted(store, f"B-{name}", unit, f"cadre-{name}", steps, TO_SOUTH)


def _board(**counts: object) -> dict[str, object]:
    return ZERO | counts


# North after every step; south's cases: one closed on time, one moved over from north.
NORTH = _board(
    cases=8,  # n1-n7 and n9; n8 withdrawn leaves the board
    active=5,  # n4 n5 n6 n7 n9
    green=1,  # n7
    yellow=2,  # n6 (warned near the deadline), n9 (closure asked for after it)
    red=2,  # n4 n5
    grey=3,  # n1 n2 n3
    red_level_0=1,  # n4: overdue, not yet escalated
    red_level_2=1,  # n5
    closed=3,
    closed_on_time=1,  # n1; n2 late, n3 within an extension, late against the original
    on_time_rate="0.3333",
)
SOUTH = _board(
    cases=2, active=1, green=1, grey=1, closed=1, closed_on_time=1, on_time_rate="1.0000"
)
TOTAL = _board(
    cases=10,
    active=6,
    green=2,
    yellow=2,
    red=2,
    grey=4,
    red_level_0=1,
    red_level_2=1,
    closed=4,
    closed_on_time=2,
    on_time_rate="0.5000",
)


def _read(engine: Engine, units: list[str]) -> tuple[dict[str, dict[str, object]], object]:
    rows, total = read_board(engine, units)
    return {r.unit_id: r.model_dump(exclude={"unit_id"}) for r in rows}, total.model_dump()


@pytest.fixture(scope="module")
def north_before_transfer(engine: Engine) -> dict[str, object]:
    """Every case appended and projected in small batches; north's row read while s1 is
    still north's, then s1 moved to south and projected again."""
    store = EventStore(engine, notify=False)
    on_time = [(at(2025, 4, 9), "request"), (at(2025, 4, 10), "verify")]
    _case(store, "n1", "north", on_time)
    _case(
        store,
        "n2",
        "north",
        [
            (at(2025, 5, 6), "overdue"),
            (at(2025, 5, 8), "escalate1"),
            (at(2025, 5, 19), "request"),
            (at(2025, 5, 20), "verify"),
        ],
    )
    _case(
        store,
        "n3",
        "north",
        [
            (at(2025, 4, 20), "extend"),
            (at(2025, 4, 21), "grant"),
            (at(2025, 6, 9), "request"),
            (at(2025, 6, 10), "verify"),
        ],
    )
    _case(store, "n4", "north", [(at(2025, 5, 6), "overdue")])
    _case(
        store,
        "n5",
        "north",
        [
            (at(2025, 5, 6), "overdue"),
            (at(2025, 5, 8), "escalate1"),
            (at(2025, 5, 15), "escalate2"),
        ],
    )
    _case(store, "n6", "north", [(at(2025, 4, 25), "warn")])
    _case(store, "n7", "north", [])
    _case(store, "n8", "north", [(at(2025, 3, 20), "withdraw")])
    _case(store, "n9", "north", [(at(2025, 5, 6), "overdue"), (at(2025, 5, 7), "request")])
    _case(store, "s2", "south", on_time)
    moved = _case(store, "s1", "north", [])
    catch_up(engine, batch_size=7)
    before = _read(engine, ["north"])[0]["north"]
    advance(moved, [(at(2025, 3, 20), "transfer")], TO_SOUTH)
    catch_up(engine, batch_size=7)
    return before


def test_the_board_counts_each_unit_by_light_level_and_closure(
    engine: Engine, north_before_transfer: dict[str, object]
) -> None:
    units, total = _read(engine, ["north", "south"])
    assert units == {"north": NORTH, "south": SOUTH}
    assert total == TOTAL


def test_a_transfer_moves_the_case_off_the_old_units_board(
    engine: Engine, north_before_transfer: dict[str, object]
) -> None:
    assert north_before_transfer == NORTH | {"cases": 9, "active": 6, "green": 2}
    assert _read(engine, ["north", "south"])[0]["north"] == NORTH


def test_a_rebuild_gives_the_same_board(
    engine: Engine, north_before_transfer: dict[str, object]
) -> None:
    rebuild_all(engine)
    assert _read(engine, ["north", "south"]) == ({"north": NORTH, "south": SOUTH}, TOTAL)


def test_the_totals_are_over_the_units_asked_for_only(
    engine: Engine, north_before_transfer: dict[str, object]
) -> None:
    units, total = _read(engine, ["south"])
    assert list(units) == ["south"]
    assert total == SOUTH
    # A unit without cases has no row; over no rows the totals are zero, with no rate.
    assert _read(engine, ["nowhere"]) == ({}, ZERO)
    assert _read(engine, []) == ({}, ZERO)
