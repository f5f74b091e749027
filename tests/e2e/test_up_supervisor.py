"""`zhenggai up` heals: it restarts a child that dies, cleans up after a killed `up`,
refuses a second `up` on its data dir, and gives up on a child that keeps crashing.

Runs the real command in a subprocess (embedded PostgreSQL, Temporal dev server)
on free ports. The processes are found through the lock file `up` keeps in its
data dir (`up.pid`) and through /proc.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.helpers import Up, alive, kill_all, live_processes_of, recorded_pids, wait_until
from tests.e2e.test_up_smoke import _FINDING, _ports, _run, _seed, _token

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A data dir outside pytest's temp root: run as root, PostgreSQL runs as the user
    `pgserver`, and a concurrent pytest session resets that root to mode 0700."""
    folder = Path(tempfile.mkdtemp(prefix="zg-up-"))
    try:
        yield folder / "data"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _nothing_left(data_dir: Path) -> None:
    """After `up` ends, no process of its data dir remains (bounded wait for the last exits)."""
    wait_until(
        lambda: not live_processes_of(data_dir),
        10,
        f"the processes of {data_dir} to end: {live_processes_of(data_dir)}",
    )


def test_a_killed_worker_is_restarted_and_cases_still_open(data_dir: Path) -> None:
    with Up(data_dir, _ports()) as up:
        up.wait_ready()
        _seed(up.base, _token(data_dir, "--role", "admin", "--name", "管理员"))
        supervisor = _token(data_dir, "--role", "supervisor", "--unit", "city", "--name", "督查")
        old = recorded_pids(data_dir)["worker"]

        os.kill(old, signal.SIGKILL)
        up.wait_for("worker 意外退出（退出码 -9）", 30)
        assert "已重启" in up.output
        new = recorded_pids(data_dir)["worker"]
        assert new != old
        assert alive(new)

        # The new worker runs the case workflow: the finding opens its case.
        auth = {"Authorization": f"Bearer {supervisor}"}
        created = httpx.post(f"{up.base}/api/v1/findings", json=_FINDING, headers=auth, timeout=60)
        assert created.status_code == 201, created.text
        case_id = created.json()["case_id"]
        fetched = httpx.get(f"{up.base}/api/v1/cases/{case_id}", headers=auth, timeout=10)
        assert fetched.status_code == 200
        assert fetched.json()["case_id"] == case_id

        assert up.interrupt() == 0, up.output
    assert "已停止" in up.output
    _nothing_left(data_dir)


def test_a_killed_up_is_cleaned_up_by_the_next_one(data_dir: Path) -> None:
    ports = _ports()
    first = Up(data_dir, ports)
    leftovers: dict[str, int] = {}
    try:
        first.wait_ready()
        leftovers = recorded_pids(data_dir)
        assert set(leftovers) == {
            *("postgres", "temporal", "worker", "projector", "dispatcher", "api")
        }
        first.process.kill()  # kill -9: nothing of `up` runs to stop the others
        first.wait_exit(10)
        assert all(alive(pid) for pid in leftovers.values())  # orphans, holding the ports

        with Up(data_dir, ports) as second:
            second.wait_ready()
            assert "上次的 zhenggai up 未正常退出，已停止它遗留的进程" in second.output
            assert not any(alive(pid) for pid in leftovers.values())

            # While it runs, another `up` on the same data dir is refused.
            refused = _run("up", "--data-dir", str(data_dir), **_ports())
            assert refused.returncode == 2, refused.stderr
            assert "已有一个 zhenggai up 在运行" in refused.stderr
            assert str(second.process.pid) in refused.stderr

            assert second.interrupt() == 0, second.output
        assert second.output.rstrip().endswith(f"已停止。数据保存在 {data_dir.resolve()}")
        _nothing_left(data_dir)
        assert not (data_dir / "up.pid").exists()
    finally:
        kill_all(leftovers.values())


def test_a_child_that_keeps_crashing_makes_up_give_up(data_dir: Path) -> None:
    """Another program takes the API's port while the API is down: every restart of
    the API then exits at once (port in use), and `up` gives up at the fifth crash
    within a minute (the kill, then four failed restarts after 0.5, 1, 2 and 4 s)."""
    ports = _ports()
    port = int(ports["ZHENGGAI_API_PORT"])
    with Up(data_dir, ports) as up, socket.socket() as squatter:
        up.wait_ready()
        os.kill(recorded_pids(data_dir)["api"], signal.SIGKILL)

        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + 5
        while True:
            try:
                squatter.bind(("127.0.0.1", port))
                break
            except OSError:
                assert time.monotonic() < deadline, "the API's port was not freed"
                time.sleep(0.02)
        squatter.listen()

        code = up.wait_exit(180)  # five crashes fit in its 60 s window; a busy CI is slow
    assert code == 1, up.output
    assert up.output.count("api 意外退出") == 4, up.output
    assert "api 在 60 秒内崩溃 5 次" in up.output
    assert "不再重启" in up.output
    assert "已停止" in up.output
    _nothing_left(data_dir)
