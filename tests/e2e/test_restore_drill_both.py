"""Backup and restore of both databases of `zhenggai up` (the event store's PostgreSQL and
Temporal's SQLite file), and the restore drill that proves a backup brings cases back.

A real `up` makes the data: two cases, a command, a seal; it is stopped and backed up
(A); started again for one more command and backed up again (B). The drill passes on
B, on its archive and on a pair restored by hand into scratch servers (production's
way), and fails on a pair taken from different moments (B's event store with A's
Temporal). B restored into a new data dir starts with `up` and takes commands.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from cli.embedded_postgres import start_embedded_postgres
from cli.temporal_dev import TemporalDevServer, wait_for_temporal
from tests.e2e.test_up_smoke import (
    _env,
    _free_port,
    _ports,
    _seed,
    _token,
    _zhenggai,
    running_up,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KEY = "restore-drill-test-key-0123456789"
WAIT_S = 120


def _run(*args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _zhenggai(*args),
        env=_env(ZHENGGAI_AUDIT_KEY=KEY, ZHENGGAI_LANGUAGE="en", **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Made:
    a: Path  # backup after two cases, a plan and a seal
    b: Path  # backup after one more progress report on the first case
    cases: list[str]
    version_at_b: int
    refused_while_up: subprocess.CompletedProcess[str]


def _caught_up(base: str, auth: dict[str, str]) -> None:
    deadline = time.monotonic() + WAIT_S
    while True:
        lags = httpx.get(f"{base}/api/v1/projections", headers=auth, timeout=10).json()
        if all(lag["events_behind"] == 0 and lag["checkpoint_position"] for lag in lags):
            return
        assert time.monotonic() < deadline, f"the projections did not catch up: {lags}"
        time.sleep(0.5)


def _progress(base: str, auth: dict[str, str], case_id: str, words: str) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/cases/{case_id}/progress", json={"text": words}, headers=auth, timeout=30
    )


@pytest.fixture(scope="module")
def root() -> Iterator[Path]:
    """Where this module's data dirs live: a folder of its own, not pytest's base temp.
    Run as root, pgserver opens the folders above a data dir to its own user, and
    another pytest session on the machine closes pytest's base temp again (0700)."""
    folder = Path(tempfile.mkdtemp(prefix="zg-restore-drill-test-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def here(root: Path) -> Path:
    return Path(tempfile.mkdtemp(dir=root))


@pytest.fixture(scope="module")
def made(root: Path) -> Made:
    data = root / "data"
    ports = _ports()
    env = {"ZHENGGAI_AUDIT_KEY": KEY}
    with running_up(data, ports, **env) as base:
        _seed(base, _token(data, "--role", "admin", "--name", "管理员", **env))
        supervisor = {
            "Authorization": "Bearer "
            + _token(data, "--role", "supervisor", "--unit", "city", "--name", "督查", **env)
        }
        unit = {
            "Authorization": "Bearer "
            + _token(data, "--role", "unit", "--unit", "city-water", "--name", "办事员", **env)
        }
        cases = []
        for title in ("城区黑臭水体整治滞后", "污水处理厂提标改造未完成"):
            finding = {
                "title": title,
                "source": "inspection",
                "unit_id": "city-water",
                "cadre_id": "cadre-9",
                "deadline": (date.today() + timedelta(days=90)).isoformat(),
                "force_new": True,
            }
            created = httpx.post(
                f"{base}/api/v1/findings", json=finding, headers=supervisor, timeout=30
            )
            assert created.status_code == 201, created.text
            cases.append(created.json()["case_id"])
        plan = httpx.post(
            f"{base}/api/v1/cases/{cases[0]}/plan", json={"plan": "分三步"}, headers=unit, timeout=9
        )
        assert plan.status_code == 200, plan.text
        _caught_up(base, supervisor)
        sealed = _run("audit", "seal", ZHENGGAI_DATA_DIR=str(data))
        assert sealed.returncode == 0, sealed.stdout + sealed.stderr
        refused = _run("backup", str(root / "never.tar.gz"), "--data-dir", str(data))
    done = _run("backup", str(root / "a.tar.gz"), "--data-dir", str(data))
    assert done.returncode == 0, done.stdout + done.stderr

    with running_up(data, ports, **env) as base:
        moved = _progress(base, unit, cases[0], "第一步已完成")
        assert moved.status_code == 200, moved.text
        version_at_b = moved.json()["version"]
        _caught_up(base, supervisor)
    done = _run("backup", str(root / "b.tar.gz"), "--data-dir", str(data))
    assert done.returncode == 0, done.stdout + done.stderr
    return Made(root / "a.tar.gz", root / "b.tar.gz", cases, version_at_b, refused)


@pytest.mark.timeout(900)
def test_backup_refuses_while_up_runs_on_the_data_dir(made: Made) -> None:
    refused = made.refused_while_up
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "already running" in refused.stderr
    assert not (made.a.parent / "never.tar.gz").exists()
    with tarfile.open(made.a) as archive:
        names = archive.getnames()
    for kept in ("zhenggai-backup.json", "temporal.sqlite", "pg/PG_VERSION", "audit/witness.jsonl"):
        assert kept in names
    assert "pg/postmaster.pid" not in names
    assert not [n for n in names if n.startswith("logs") or n == "up.pid"]


@pytest.mark.timeout(600)
def test_the_drill_passes_on_a_backup_of_both_databases(made: Made) -> None:
    drilled = _run("restore-drill", str(made.b))
    output = drilled.stdout + drilled.stderr
    assert drilled.returncode == 0, output
    assert "ok    event log (audit verify)" in output
    assert "ok    read models (projections check)" in output
    assert "workflows: 2 running for 2 cases in the log" in output
    assert "commands: 2 open case(s) took a progress report" in output
    assert output.rstrip().endswith("restore drill passed")


@pytest.mark.timeout(600)
def test_the_drill_fails_on_databases_from_two_moments(made: Made, here: Path) -> None:
    """B's event store with A's Temporal: the first case's workflow is one event behind."""
    mixed, older = here / "mixed", here / "older"
    assert _run("restore", str(made.b), "--data-dir", str(mixed)).returncode == 0
    assert _run("restore", str(made.a), "--data-dir", str(older)).returncode == 0
    shutil.copyfile(older / "temporal.sqlite", mixed / "temporal.sqlite")
    assert _run("backup", str(here / "m.tar.gz"), "--data-dir", str(mixed)).returncode == 0

    drilled = _run("restore-drill", str(here / "m.tar.gz"), "--commands", "0")
    output = drilled.stdout + drilled.stderr
    assert drilled.returncode == 1, output
    behind = made.version_at_b - 1
    assert (
        f"FAIL  case-{made.cases[0]}: the workflow is at version {behind}, "
        f"the log at {made.version_at_b}"
    ) in output
    assert f"case-{made.cases[1]}:" not in output  # the other case is the same in both
    assert "restore drill FAILED: 1 problem(s)" in output


@pytest.mark.timeout(600)
def test_a_restored_data_dir_starts_and_its_cases_take_commands(made: Made, here: Path) -> None:
    data = here / "restored"
    restored = _run("restore", str(made.b), "--data-dir", str(data))
    assert restored.returncode == 0, restored.stderr
    assert f"zhenggai up --data-dir {data}" in restored.stdout
    again = _run("restore", str(made.b), "--data-dir", str(data))
    assert again.returncode == 2
    assert "not empty" in again.stderr

    env = {"ZHENGGAI_AUDIT_KEY": KEY}
    ports = _ports()
    with running_up(data, ports, **env) as base:
        unit = {
            "Authorization": "Bearer "
            + _token(data, "--role", "unit", "--unit", "city-water", "--name", "新办事员", **env)
        }
        case = httpx.get(f"{base}/api/v1/cases/{made.cases[0]}", headers=unit, timeout=10)
        assert case.status_code == 200
        assert case.json()["state"]["version"] == made.version_at_b
        moved = _progress(base, unit, made.cases[0], "恢复后第二步已完成")
        assert moved.status_code == 200, moved.text
        assert moved.json()["version"] == made.version_at_b + 1
        verified = _run("audit", "verify", ZHENGGAI_DATA_DIR=str(data))
        assert verified.returncode == 0, verified.stdout + verified.stderr
        # The drill never takes a live system for a restored copy: its workers poll.
        live = _run(
            "restore-drill",
            "--restored-copy",
            ZHENGGAI_DATA_DIR=str(data),
            TEMPORAL_ADDRESS=f"127.0.0.1:{ports['ZHENGGAI_TEMPORAL_PORT']}",
        )
        assert live.returncode == 2, live.stdout + live.stderr
        assert "that is a live system, not a restored copy" in live.stderr


@pytest.mark.timeout(600)
def test_the_drill_checks_a_pair_restored_by_hand(made: Made, here: Path) -> None:
    """As production does it: both databases restored into scratch servers that no
    worker reaches, then `restore-drill --restored-copy` against them."""
    data = here / "by-hand"
    assert _run("restore", str(made.b), "--data-dir", str(data)).returncode == 0
    (data / "logs").mkdir()
    postgres = start_embedded_postgres(data / "pg")
    try:
        server = TemporalDevServer(data, _free_port(), _free_port(), data / "logs" / "t.log")
        try:
            assert wait_for_temporal(server.address, process=server.process) is None
            drilled = _run(
                "restore-drill",
                "--restored-copy",
                "--commands",
                "1",
                DATABASE_URL=postgres.url,
                TEMPORAL_ADDRESS=server.address,
                ZHENGGAI_AUDIT_WITNESS_FILE=str(data / "audit" / "witness.jsonl"),
            )
        finally:
            server.stop()
    finally:
        postgres.stop()
    output = drilled.stdout + drilled.stderr
    assert drilled.returncode == 0, output
    assert "workflows: 2 running for 2 cases in the log" in output
    assert "commands: 1 open case(s) took a progress report" in output
    assert output.rstrip().endswith("restore drill passed")
