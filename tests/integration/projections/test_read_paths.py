"""The read paths made cheap for 100,000 cases (docs/performance.md): the board's JSON
and its cache, the indexes of migration 0017, statistics after a rebuild, the
extension requests waiting for a decision, and pooled connections pinged only when
idle."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from pydantic import TypeAdapter
from sqlalchemy import Engine, text

import application.case_lists as case_lists
import store.engine as engines
from application.case_lists import BoardOut, BoardUnitOut
from domain.commands import DenyExtension, RequestExtension
from domain.vocabulary import Actor, CaseStatus, Role
from store.directory import Directory
from store.engine import make_engine
from store.event_store import EventStore
from store.projections.case_summary import CaseFilters, list_cases
from store.projections.rebuild import rebuild_all
from store.projections.registry import PROJECTIONS
from store.projections.unit_board import read_board
from store.todo_reads import cases_awaiting_extension_decision

from .helpers import SUPERVISOR, Case, at, catch_up, scripted, unit_actor

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:6]
ROOT, NORTH, SOUTH, EMPTY = (f"{TAG}-{name}" for name in ("root", "north", "south", "empty"))
SUP = Actor(user_id="sup", role=Role.SUPERVISOR, unit_id=ROOT)
UNIT = Actor(user_id="unit", role=Role.UNIT, unit_id=NORTH)


@pytest.fixture(scope="module")
def cases(engine: Engine) -> dict[str, Case]:
    Directory(engine).add_units(
        [
            (ROOT, "某市", None),
            (NORTH, "北区", ROOT),
            (SOUTH, '南区 "引号"', ROOT),
            (EMPTY, "空", ROOT),
        ]
    )
    store = EventStore(engine, notify=False)
    made = {
        "open": scripted(store, f"R{TAG}-1", NORTH, "c1", []),
        "asked": scripted(store, f"R{TAG}-2", NORTH, "c1", [(at(2025, 4, 20), "extend")]),
        "granted": scripted(
            store,
            f"R{TAG}-3",
            SOUTH,
            "c2",
            [(at(2025, 4, 20), "extend"), (at(2025, 4, 21), "grant")],
        ),
        "asked_again": scripted(
            store,
            f"R{TAG}-4",
            SOUTH,
            "c2",
            [(at(2025, 4, 20), "extend"), (at(2025, 4, 21), "grant")],
        ),
        "denied": scripted(store, f"R{TAG}-5", SOUTH, "c2", [(at(2025, 4, 20), "extend")]),
        "closed": scripted(
            store,
            f"R{TAG}-6",
            NORTH,
            "c1",
            [(at(2025, 4, 9), "request"), (at(2025, 4, 10), "verify")],
        ),
    }
    made["denied"].do(DenyExtension(actor=SUPERVISOR, reason="理由不足"), at(2025, 4, 21))
    later = date(2025, 8, 29)
    again = RequestExtension(actor=unit_actor(SOUTH), reason="再延", proposed_deadline=later)
    made["asked_again"].do(again, at(2025, 6, 20))
    _projected(engine)
    return made


def _projected(engine: Engine) -> None:
    """Catch up until every projection has read the whole log (a transaction open
    elsewhere on the server holds the log's visible end back for a moment)."""
    done = text(
        "SELECT count(*) FROM checkpoints "
        "WHERE position >= (SELECT coalesce(max(position), 0) FROM events)"
    )
    for _ in range(600):
        catch_up(engine)
        with engine.connect() as conn:
            if conn.execute(done).scalar_one() == len(PROJECTIONS):
                return
        time.sleep(0.1)
    raise AssertionError("the projections did not catch up")


@pytest.fixture
def store(engine: Engine) -> EventStore:
    return EventStore(engine, notify=False)


def _as_before(engine: Engine, actor: Actor, root: str) -> bytes:
    """The board as the API made it before 0017's session: a model per unit, serialised
    by FastAPI (pydantic's JSON of the response model)."""
    directory = Directory(engine)
    units = [directory.unit(root)] if actor.role is Role.UNIT else directory.subtree(root)
    rows, total = read_board(engine, [u.unit_id for u in units if u is not None])
    by_id = {row.unit_id: row for row in rows}
    found = [
        BoardUnitOut(name=u.name, **by_id[u.unit_id].model_dump())
        for u in units
        if u is not None and u.unit_id in by_id
    ]
    model = BoardOut(unit_id=root, units=found, total=total)
    return TypeAdapter(BoardOut).dump_json(model)


@pytest.mark.parametrize(("actor", "unit"), [(SUP, None), (SUP, SOUTH), (SUP, EMPTY), (UNIT, None)])
def test_the_boards_json_is_byte_for_byte_the_models(
    engine: Engine, store: EventStore, cases: dict[str, Case], actor: Actor, unit: str | None
) -> None:
    found = case_lists._board(store, Directory(engine), actor, unit)
    assert found.json == _as_before(engine, actor, unit or actor.unit_id or "")
    assert case_lists._model(found) == BoardOut.model_validate_json(found.json)


def test_a_board_is_kept_until_the_projection_moves_the_directory_grows_or_time_passes(
    engine: Engine,
    store: EventStore,
    cases: dict[str, Case],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    directory = Directory(engine)
    first = case_lists._board(store, directory, SUP, None)
    before = BoardOut.model_validate_json(first.json).total.cases
    assert case_lists._board(store, directory, SUP, None) is first  # nothing changed
    assert case_lists._board(store, directory, UNIT, None) is not first  # another root

    scripted(store, f"R{TAG}-7", NORTH, "c1", [])
    assert case_lists._board(store, directory, SUP, None) is first  # not yet projected
    _projected(engine)
    moved = case_lists._board(store, directory, SUP, None)
    assert moved is not first
    assert BoardOut.model_validate_json(moved.json).total.cases == before + 1
    directory.add_units([(f"{TAG}-new", "新", ROOT)])
    grown = case_lists._board(store, directory, SUP, None)
    assert grown is not moved
    assert grown.json == moved.json

    monkeypatch.setattr(case_lists, "BOARD_SECONDS", 0.0)
    assert case_lists._board(store, directory, SUP, None) is not grown


def test_the_indexes_of_0017_exist_and_survive_a_rebuild(
    engine: Engine, cases: dict[str, Case]
) -> None:
    def definitions() -> list[str]:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    text(
                        "SELECT indexdef FROM pg_indexes "
                        "WHERE tablename IN ('case_summary', 'events') ORDER BY indexname"
                    )
                ).scalars()
            )

    def wanted(found: list[str]) -> list[bool]:
        return [
            any("(status, COALESCE(deadline" in d for d in found),
            any("(light, COALESCE(deadline" in d for d in found),
            any("INCLUDE (type) WHERE (type = ANY" in d for d in found),
        ]

    with engine.connect() as conn:
        names = set(
            conn.execute(text("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"))
            .scalars()
            .all()
        )
    assert {
        "case_summary_status_deadline",
        "case_summary_light_deadline",
        "events_extension_decisions",
    } <= names
    assert wanted(definitions()) == [True, True, True]
    rebuild_all(engine)
    assert wanted(definitions()) == [True, True, True]


def test_a_rebuild_leaves_the_read_models_with_planner_statistics(
    engine: Engine, cases: dict[str, Case]
) -> None:
    rebuild_all(engine)
    with engine.connect() as conn:
        analysed = conn.execute(
            text(
                "SELECT count(DISTINCT tablename) FROM pg_stats "
                "WHERE tablename IN ('case_summary', 'unit_board', 'unit_board_cases')"
            )
        ).scalar_one()
    assert analysed == 3


def test_the_extension_requests_waiting_are_those_whose_last_extension_event_asks(
    engine: Engine, cases: dict[str, Case]
) -> None:
    waiting = cases_awaiting_extension_decision(engine, f"/{ROOT}/")
    assert sorted(waiting) == sorted(
        c.state.case_id for k, c in cases.items() if k in ("asked", "asked_again") and c.state
    )
    assert cases_awaiting_extension_decision(engine, f"/{ROOT}/{NORTH}/") == [
        cases["asked"].state.case_id if cases["asked"].state else ""
    ]


def test_the_list_filters_by_case_ids_and_one_status_as_by_several(
    engine: Engine, cases: dict[str, Case]
) -> None:
    def rows(**filters: object) -> list[tuple[str, CaseStatus]]:
        found = CaseFilters.model_validate({"unit_path": f"/{ROOT}/", **filters})
        return [(row.case_id, row.status) for row in list_cases(engine, found).items]

    def ids(**filters: object) -> list[str]:
        return [case_id for case_id, _ in rows(**filters)]

    every = rows()
    for status in (CaseStatus.OPEN, CaseStatus.CLOSED):
        assert ids(statuses=frozenset({status})) == [c for c, s in every if s is status]
    both = frozenset({CaseStatus.OPEN, CaseStatus.CLOSED})
    assert ids(statuses=both) == [c for c, s in every if s in both]
    assert len({s for _, s in every}) == 2
    first_two = [case_id for case_id, _ in every[:2]]
    assert ids(case_ids=frozenset(first_two)) == first_two
    assert ids(case_ids=frozenset()) == []


@pytest.fixture
def fresh_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, pool_size=1)
    yield engine
    engine.dispose()


def test_an_idle_pooled_connection_the_server_dropped_is_replaced(
    fresh_engine: Engine, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fresh_engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    monkeypatch.setattr(engines, "PING_AFTER_IDLE_SECONDS", 0.0)
    with fresh_engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid


def test_several_streams_read_at_once_are_each_as_read_alone(
    engine: Engine, store: EventStore, cases: dict[str, Case]
) -> None:
    ids = [case.stream_id for case in cases.values()]
    found = store.read_streams([*ids, "no-such-stream"])
    assert list(found) == sorted(ids)
    for stream_id in ids:
        assert found[stream_id] == store.read_stream(stream_id)
