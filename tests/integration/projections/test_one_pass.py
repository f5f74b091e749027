"""Every read model built from one pass over the log (``rebuild_all``, ``check_all``):
the same rows as each projection's own build, one swap, and nothing left behind by a
failure or a busy rebuild."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import Engine, text

from domain.commands import (
    RecordAccountability,
    ReportProgress,
    RequestClosure,
    SubmitPlan,
    TransferResponsibility,
    VerifyClosure,
    WithdrawCase,
)
from domain.vocabulary import AccountabilityAction
from store.event_store import EventStore
from store.projections import cadre_archive, one_pass
from store.projections.check import check, check_all
from store.projections.rebuild import RebuildBusy, count_events, rebuild, rebuild_all
from store.projections.registry import PROJECTIONS
from store.projections.runner import subscription_for
from store.records import NewEvent

from .helpers import SUPERVISOR, Case, at, catch_up, open_command, unit_actor

pytestmark = pytest.mark.integration


def _index_definitions(engine: Engine) -> dict[str, list[str]]:
    """Per table of every projection: its indexes' definitions, without their names."""
    found = {}
    with engine.connect() as conn:
        for projection in PROJECTIONS.values():
            for table in projection.tables:
                rows = conn.execute(
                    text(
                        "SELECT regexp_replace(pg_get_indexdef(indexrelid), "
                        "'INDEX \\S+ ON', 'INDEX ON') FROM pg_index "
                        "WHERE indrelid = CAST(:t AS regclass)"
                    ),
                    {"t": table},
                ).scalars()
                found[table] = sorted(rows)
    return found


def _tables_digest(engine: Engine) -> dict[str, tuple[str, int]]:
    """Per table of every projection: md5 of its rows in key order, and their count."""
    found = {}
    with engine.connect() as conn:
        for projection in PROJECTIONS.values():
            for table, key in zip(projection.tables, projection.keys, strict=True):
                order = ", ".join(key)
                row = conn.execute(
                    text(
                        f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY {order}), '')), "
                        f"count(*) FROM {table} t"
                    )
                ).one()
                found[table] = (row[0], row[1])
    return found


@pytest.fixture(scope="module")
def mixed(engine: Engine) -> EventStore:
    """Cases of five cadres: transferred between cadres (a stream in two chunks when a
    chunk holds one cadre), closed, withdrawn, with an accountability action naming a
    third cadre; and a stream that is not a case, which names no cadre."""
    store = EventStore(engine, notify=False)
    unit = unit_actor("unit-a")
    for n in range(10):
        case = Case(store, f"M{uuid.uuid4().hex[:6]}")
        cadre = f"mc{n % 3}"
        case.do(open_command(case.stream_id[5:], cadre_id=cadre), at(2025, 2, 3 + n))
        case.do(SubmitPlan(actor=unit, plan="方案"), at(2025, 2, 20))
        case.do(ReportProgress(actor=unit, text="进展\t第一步\n\\完成"), at(2025, 3, 1))
        if n % 3 == 0:
            transfer = TransferResponsibility(
                actor=SUPERVISOR, unit_id="unit-b", cadre_id=f"mz{n}", reason="调整分工"
            )
            case.do(transfer, at(2025, 3, 5))
        if n % 4 == 1:
            accountability = RecordAccountability(
                actor=SUPERVISOR,
                action=AccountabilityAction.REASSIGNMENT,
                reason="r",
                by_decision=True,
                cadre_id="ma9",
            )
            case.do(accountability, at(2025, 3, 9))
        if n % 5 == 2:
            case.do(WithdrawCase(actor=SUPERVISOR, reason="重复"), at(2025, 3, 12))
        elif n % 2 == 0:
            now_at = unit_actor(case.state.unit_id) if case.state else unit
            case.do(RequestClosure(actor=now_at, summary="已整改"), at(2025, 4, 2))
            case.do(VerifyClosure(actor=SUPERVISOR), at(2025, 4, 8))
    other = NewEvent(
        event_id=uuid.uuid4(),
        type="NoteTaken",
        schema_version=1,
        data={"text": "不是问题流", "occurred_at": "2025-03-01T10:00:00+08:00"},
        metadata={"actor": "test"},
    )
    store.append(f"note-{uuid.uuid4().hex[:6]}", 0, [other], stream_type="note")
    catch_up(engine)
    return store


@pytest.mark.parametrize("cadres_per_chunk", [1, 1000])
def test_one_pass_gives_the_rows_of_each_projections_own_build(
    engine: Engine, mixed: EventStore, monkeypatch: pytest.MonkeyPatch, cadres_per_chunk: int
) -> None:
    # One stream per chunk: a transferred case is read by two chunks (and in workers).
    monkeypatch.setattr(cadre_archive, "_CHUNK_STREAMS", cadres_per_chunk)
    for projection in PROJECTIONS.values():
        rebuild(engine, projection)
    separate = _tables_digest(engine)
    assert all(count > 0 for _, count in separate.values())

    indexes = _index_definitions(engine)
    counted: list[int] = []
    results = rebuild_all(engine, progress=counted.append)

    assert _tables_digest(engine) == separate
    # The indexes left out while the rows were written are all back, as they were.
    assert _index_definitions(engine) == indexes
    assert [r.name for r in results] == list(PROJECTIONS)
    assert len({r.checkpoint for r in results}) == 1
    # Each event counts once for progress: streams in two chunks, and the stream in none.
    assert sum(counted) == count_events(engine, results[0].built_to)
    for report in check_all(engine):
        assert report.ok, [d.describe() for d in report.differences]
        assert report.rows > 0


def test_check_all_names_the_differences_of_each_projection(
    engine: Engine, mixed: EventStore
) -> None:
    rebuild_all(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE case_summary SET title = '改过的' WHERE cadre_id = 'mc1'"))
        conn.execute(text("DELETE FROM unit_board WHERE unit_id = 'unit-b'"))
    reports = {r.name: r for r in check_all(engine)}
    assert not reports["case_summary"].ok
    assert {d.table for d in reports["case_summary"].differences} == {"case_summary"}
    assert all(d.live and d.live["title"] == "改过的" for d in reports["case_summary"].differences)
    assert [d.key for d in reports["unit_board"].differences] == [{"unit_id": "unit-b"}]
    assert reports["cadre_archive"].ok
    rebuild_all(engine)
    assert all(r.ok for r in check_all(engine))


def test_check_all_catches_each_copy_up_to_its_own_checkpoint(
    engine: Engine, mixed: EventStore
) -> None:
    rebuild_all(engine)
    case = Case(mixed, f"K{uuid.uuid4().hex[:6]}")
    case.do(
        open_command(case.stream_id[5:], cadre_id="mc0", deadline=date(2025, 7, 1)), at(2025, 5, 6)
    )
    # Only the case summary follows; the others stay behind, where the copies start.
    subscription_for(engine, PROJECTIONS["case_summary"]).run_once()
    reports = {r.name: r for r in check_all(engine)}
    assert all(r.ok for r in reports.values()), reports
    assert reports["case_summary"].checkpoint > reports["unit_board"].checkpoint
    catch_up(engine)


def _assert_live_tables_as_before_and_no_copy(
    engine: Engine, before: dict[str, tuple[str, int]]
) -> None:
    assert _tables_digest(engine) == before
    with engine.connect() as conn:
        left = conn.execute(text("SELECT count(*) FROM pg_tables WHERE tablename LIKE '%_rebuild'"))
        assert left.scalar_one() == 0


def test_a_failed_one_pass_leaves_the_live_tables_and_no_copy(
    engine: Engine, mixed: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    rebuild_all(engine)
    before = _tables_digest(engine)

    def broken(*_: object) -> None:
        raise RuntimeError("the database went away in the middle of the build")

    monkeypatch.setattr(one_pass, "_build_unlinked", broken)
    with pytest.raises(RuntimeError, match="went away"):
        rebuild_all(engine)
    _assert_live_tables_as_before_and_no_copy(engine, before)
    monkeypatch.undo()
    rebuild_all(engine)  # the rebuild locks were released
    assert _tables_digest(engine) == before


def test_a_worker_failing_after_others_wrote_their_chunks_leaves_no_copy(
    engine: Engine, mixed: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A chunk per cadre, so the workers write (and commit) chunks before the last fails.
    monkeypatch.setattr(cadre_archive, "_CHUNK_STREAMS", 1)
    rebuild_all(engine)
    before = _tables_digest(engine)
    with engine.connect() as conn:
        last = conn.execute(text('SELECT max(cadre_id COLLATE "C") FROM cadre_archive_links'))
        last_cadre = last.scalar_one()
    real = one_pass._chunk_all

    def failing(conn: object, job: cadre_archive.ChunkJob) -> object:
        if last_cadre in job[1]:
            raise RuntimeError("a worker lost its connection")
        return real(conn, job)  # type: ignore[arg-type]

    monkeypatch.setattr(one_pass, "_chunk_all", failing)  # the forked workers inherit it
    with pytest.raises(RuntimeError, match="lost its connection"):
        rebuild_all(engine)
    _assert_live_tables_as_before_and_no_copy(engine, before)
    monkeypatch.setattr(one_pass, "_chunk_all", real)
    rebuild_all(engine)
    assert _tables_digest(engine) == before


def test_a_rebuild_replaces_the_copies_a_dead_rebuild_left_behind(
    engine: Engine, mixed: EventStore
) -> None:
    rebuild_all(engine)
    before = _tables_digest(engine)
    # What a rebuild killed in the middle leaves: committed copies, partly filled.
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE case_summary_rebuild (LIKE case_summary INCLUDING ALL)"))
        conn.execute(text("INSERT INTO case_summary_rebuild SELECT * FROM case_summary LIMIT 1"))
        conn.execute(text("UPDATE case_summary_rebuild SET title = '半途而废'"))
    rebuild_all(engine)
    assert _tables_digest(engine) == before


def test_rebuild_all_refuses_while_one_projection_is_being_rebuilt(
    engine: Engine, mixed: EventStore
) -> None:
    with engine.connect() as other:
        other.execute(text("SELECT pg_advisory_lock(hashtextextended('rebuild:unit_board', 0))"))
        try:
            with pytest.raises(RebuildBusy) as busy:
                rebuild_all(engine)
            assert busy.value.name == "unit_board"
            # The lock of case_summary, taken before, was given back.
            rebuild(engine, PROJECTIONS["case_summary"])
        finally:
            other.execute(text("SELECT pg_advisory_unlock_all()"))
            other.commit()
    assert all(check(engine, p).ok for p in PROJECTIONS.values())
