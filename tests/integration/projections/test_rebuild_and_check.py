"""Rebuild and check, through the library and through the command line."""

from __future__ import annotations

import re
import threading
import time
import uuid
from datetime import date

import pytest
import typer
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from cli.projections import archive_app, projections_app
from cli.projector import projector
from domain.commands import ReportProgress, RequestExtension
from store.event_store import EventStore
from store.projections import cadre_archive, parallel
from store.projections.check import check
from store.projections.lag import projection_lag
from store.projections.rebuild import rebuild, rebuild_all
from store.projections.registry import PROJECTIONS
from store.projections.runner import run_projections

from .helpers import Case, at, catch_up, open_command, unit_actor

pytestmark = pytest.mark.integration

app = typer.Typer()
app.add_typer(projections_app, name="projections")
app.add_typer(archive_app, name="archive")  # the deprecated alias
app.command()(projector)


@pytest.fixture(scope="module")
def seeded(engine: Engine) -> EventStore:
    store = EventStore(engine, notify=False)
    for n in range(6):
        case = Case(store, f"R{uuid.uuid4().hex[:6]}")
        case.do(open_command(case.stream_id[5:], cadre_id=f"rc{n % 2}"), at(2025, 3, 3 + n))
        case.do(ReportProgress(actor=unit_actor("unit-a"), text="进展"), at(2025, 3, 10))
    catch_up(engine)
    return store


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ZHENGGAI_LANGUAGE", "en")
    return CliRunner()


def test_a_caught_up_projection_matches_a_fresh_build(engine: Engine, seeded: EventStore) -> None:
    for projection in PROJECTIONS.values():
        report = check(engine, projection)
        assert report.ok, [d.describe() for d in report.differences]
        assert report.rows > 0


def test_a_build_split_over_worker_processes_matches_the_live_tables(
    engine: Engine, seeded: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    with engine.connect() as conn:
        streams = int(conn.execute(text("SELECT count(*) FROM streams")).scalar_one())
    monkeypatch.setattr(parallel, "SPAN_STREAMS", streams // 3 + 1)  # three or four spans
    monkeypatch.setattr(cadre_archive, "_CHUNK_STREAMS", 1)  # a chunk per cadre
    for projection in PROJECTIONS.values():
        report = check(engine, projection)
        assert report.ok, [d.describe() for d in report.differences]
        assert report.rows > 0


def test_check_prints_each_difference_and_exits_1_then_rebuild_repairs(
    engine: Engine, seeded: EventStore, cli: CliRunner
) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE case_summary SET light = 'red' WHERE light = 'green'"))
        conn.execute(text("DELETE FROM cadre_archive WHERE cadre_id = 'rc1'"))
    result = cli.invoke(app, ["projections", "check"])
    assert result.exit_code == 1, result.output
    assert "light: 'red'" in result.output
    assert "cadre_archive [cadre_id=rc1" in result.output
    assert "missing" in result.output
    result = cli.invoke(app, ["projections", "rebuild"])
    assert result.exit_code == 0, result.output
    for name in PROJECTIONS:
        assert f"{name} rebuilt and swapped in" in result.output
    result = cli.invoke(app, ["projections", "check", "--projection", "cadre_archive"])
    assert result.exit_code == 0, result.output
    assert "matches the event log" in result.output


def test_check_says_each_kind_of_difference_in_chinese_by_default(
    engine: Engine, seeded: EventStore, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZHENGGAI_LANGUAGE", "zh-CN")
    with engine.begin() as conn:
        conn.execute(text("UPDATE case_summary SET light = 'red' WHERE light = 'green'"))
        conn.execute(text("DELETE FROM cadre_archive WHERE cadre_id = 'rc1'"))
        conn.execute(
            text(
                "UPDATE cadre_archive SET document = "
                "jsonb_set(document::jsonb, '{cases_closed,value}', '99')::text "
                "WHERE cadre_id = 'rc0' AND period = '2025'"
            )
        )
        conn.execute(
            text(
                "INSERT INTO unit_board_cases SELECT 'case-nowhere', unit_id, light, status, "
                "escalation_level, closed, closed_on_time FROM unit_board_cases LIMIT 1"
            )
        )
    result = cli.invoke(app, ["projections", "check"])
    assert result.exit_code == 1, result.output
    assert "case_summary 与事件日志不一致" in result.output
    assert "light 实时表为 'red'，按事件日志应为 'green'" in result.output
    assert "cadre_archive [cadre_id=rc1" in result.output
    assert "实时表缺少此行" in result.output
    # A document that differs is opened: the figure is named, not two whole documents.
    line = next(x for x in result.output.splitlines() if "[cadre_id=rc0, period=2025]" in x)
    assert line.endswith(
        '：document.cases_closed 实时表为 {"value":99,"event_ids":[]}，'
        '按事件日志应为 {"value":0,"event_ids":[]}'
    )
    assert "unit_board_cases [stream_id=case-nowhere]：实时表多出此行" in result.output
    assert "unit_board 与事件日志不一致：1 处差异\n" in result.output
    result = cli.invoke(app, ["projections", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "cadre_archive 已重建并替换" in result.output
    result = cli.invoke(app, ["projections", "check"])
    assert result.exit_code == 0, result.output
    assert "cadre_archive 与事件日志一致" in result.output


def test_check_counts_every_difference_and_lists_the_first_of_each_table(
    engine: Engine, seeded: EventStore, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    with engine.begin() as conn:
        changed = conn.execute(text("UPDATE case_summary SET title = 'x'")).rowcount
    assert changed == 6
    report = check(engine, PROJECTIONS["case_summary"], limit=2)
    assert report.difference_count == 6
    assert [d.columns() for d in report.differences] == [["title"], ["title"]]
    keys = [d.key["stream_id"] for d in report.differences]
    assert keys == sorted(keys)  # the first ones in key order
    monkeypatch.setattr("cli.projections._LISTED", 2)
    result = cli.invoke(app, ["projections", "check", "--projection", "case_summary"])
    assert result.exit_code == 1, result.output
    assert "in 6 row(s) (the first 2 of each table listed)" in result.output
    assert result.output.count("title: 'x' ≠ ") == 2
    rebuild(engine, PROJECTIONS["case_summary"])
    assert check(engine, PROJECTIONS["case_summary"]).difference_count == 0


@pytest.mark.parametrize("together", [False, True], ids=["each", "all"])
def test_rebuild_swaps_while_the_live_runner_keeps_going(
    engine: Engine, seeded: EventStore, together: bool
) -> None:
    stop = threading.Event()
    runner = threading.Thread(target=run_projections, args=(engine, stop), kwargs={"retry": 0.1})
    runner.start()
    try:
        writer_done = threading.Event()

        def write() -> None:
            for n in range(15):
                case = Case(seeded, f"W{uuid.uuid4().hex[:6]}")
                case.do(
                    open_command(case.stream_id[5:], cadre_id="rc0", deadline=date(2025, 6, 20)),
                    at(2025, 5, 5),
                )
                case.do(
                    RequestExtension(
                        actor=unit_actor("unit-a"),
                        reason="r",
                        proposed_deadline=date(2025, 6, 30),
                    ),
                    at(2025, 5, 6 + n % 3),
                )
            writer_done.set()

        writer = threading.Thread(target=write)
        writer.start()
        if together:
            rebuild_all(engine)
        else:
            for projection in PROJECTIONS.values():
                rebuild(engine, projection)
        writer.join()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if all(lag.events_behind == 0 for lag in projection_lag(engine)):
                break
            time.sleep(0.05)
    finally:
        stop.set()
        runner.join(timeout=20)
    assert all(lag.events_behind == 0 for lag in projection_lag(engine))
    for projection in PROJECTIONS.values():
        report = check(engine, projection)
        assert report.ok, [d.describe() for d in report.differences]


def test_lag_reports_each_projection_behind_the_head(engine: Engine, seeded: EventStore) -> None:
    catch_up(engine)
    case = Case(seeded, f"L{uuid.uuid4().hex[:6]}")
    case.do(open_command(case.stream_id[5:]), at(2025, 3, 3))
    lags = {lag.name: lag for lag in projection_lag(engine)}
    assert set(lags) == set(PROJECTIONS)
    assert all(lag.events_behind >= 1 for lag in lags.values())
    assert all(lag.head_position > lag.checkpoint_position for lag in lags.values())
    catch_up(engine)
    assert all(lag.events_behind == 0 for lag in projection_lag(engine))


def test_archive_rebuild_and_check_still_work_as_a_deprecated_alias(
    engine: Engine, seeded: EventStore, cli: CliRunner
) -> None:
    result = cli.invoke(app, ["archive", "rebuild"])
    assert result.exit_code == 0, result.output
    for name in PROJECTIONS:
        assert f"{name} rebuilt and swapped in" in result.output
    result = cli.invoke(app, ["archive", "check", "--projection", "cadre_archive"])
    assert result.exit_code == 0, result.output
    assert "matches the event log" in result.output
    for args in (["archive", "--help"], ["archive", "rebuild", "--help"]):
        assert "deprecated" in cli.invoke(app, args).output


@pytest.mark.parametrize("command", ["rebuild", "check"])
def test_an_unknown_projection_is_one_line_and_exit_2(cli: CliRunner, command: str) -> None:
    result = cli.invoke(app, ["projections", command, "--projection", "nope"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "no projection named nope" in lines[0]


def test_without_a_database_url_the_commands_exit_2_in_chinese(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("ZHENGGAI_DATABASE_URL", raising=False)
    monkeypatch.setenv("ZHENGGAI_LANGUAGE", "zh-CN")
    for args in (["projections", "check"], ["projector"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2
        assert "未设置 DATABASE_URL" in result.output


def test_archive_documents_are_stored_without_pglz_in_live_and_rebuilt_tables(
    engine: Engine, seeded: EventStore
) -> None:
    """Migrations 0008 and 0010: lz4 where the server has it, else uncompressed, in the
    row up to a page's size; the tables a rebuild makes copy the settings, and the
    documents read back unchanged."""
    before = _documents(engine)
    rebuild(engine, PROJECTIONS["cadre_archive"])
    with engine.connect() as conn:
        lz4 = conn.execute(
            text(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                "WHERE name = 'default_toast_compression'"
            )
        ).scalar_one()
        compression, storage = conn.execute(
            text(
                "SELECT attcompression, attstorage FROM pg_attribute "
                "WHERE attrelid = 'cadre_archive'::regclass AND attname = 'document'"
            )
        ).one()
        options = conn.execute(
            text("SELECT reloptions FROM pg_class WHERE oid = 'cadre_archive'::regclass")
        ).scalar()
    assert (compression, storage) == (("l", "x") if lz4 else ("", "e"))
    assert options == (None if lz4 else ["toast_tuple_target=8160"])
    assert _documents(engine) == before
    assert before


def _documents(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT cadre_id, period, document FROM cadre_archive ORDER BY 1, 2")
        ).all()
    return [(r[0], r[1], r[2]) for r in rows]


@pytest.mark.parametrize("field", ["cadre_id", "previous_cadre_id"])
def test_the_plan_reads_links_in_order_from_its_partial_index(engine: Engine, field: str) -> None:
    """Migration 0009: the index of each field that names a cadre lists exactly the
    event types with that field, and gives the plan's order, so the plan streams
    without a sort (it fails if a naming type is added without the index, or if the
    query's expression or collation stops matching the index's)."""
    index = {"cadre_id": "events_cadre_links", "previous_cadre_id": "events_previous_cadre_links"}
    with engine.connect() as conn:
        predicate = conn.execute(
            text(
                "SELECT pg_get_expr(indpred, indrelid) FROM pg_index "
                "WHERE indexrelid = CAST(:i AS regclass)"
            ),
            {"i": index[field]},
        ).scalar_one()
        assert sorted(re.findall(r"'(\w+)'::text", predicate)) == cadre_archive._PLAN_FIELDS[field]
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute("SET LOCAL enable_sort = off")
        plan = driver.execute(
            "EXPLAIN " + cadre_archive._PLAN.format(field=field),
            (cadre_archive._PLAN_FIELDS[field], "1", 1),
        ).fetchall()
    assert f"Index Scan using {index[field]} on events" in plan[0][0]


def test_a_rebuild_keeps_the_tables_storage_options(engine: Engine, seeded: EventStore) -> None:
    """``copy_tables`` gives the copies the live tables' options, which ``LIKE`` does not
    copy (migration 0010's, on a server without lz4; here one set for the test)."""
    option = "SELECT reloptions FROM pg_class WHERE oid = 'cadre_archive_links'::regclass"
    with engine.begin() as conn:
        before = conn.execute(text(option)).scalar()
        conn.execute(text("ALTER TABLE cadre_archive_links SET (fillfactor = 90)"))
    try:
        rebuild(engine, PROJECTIONS["cadre_archive"])
        with engine.connect() as conn:
            assert conn.execute(text(option)).scalar() == ["fillfactor=90"]
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE cadre_archive_links RESET (fillfactor)"))
            assert conn.execute(text(option)).scalar() == before
