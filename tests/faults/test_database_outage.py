"""PostgreSQL stopped (as by a crash) and started again under load: the API answers
503 problem+json while it is down, /health names the database, and every keyed
command ends applied exactly once once it is back."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from store.event_store import EventStore
from tests.faults.conftest import events_of, make_api
from tests.postgres import fresh_database
from worker import build_worker

pytestmark = [pytest.mark.integration, pytest.mark.slow]


class StoppablePostgres:
    """A PostgreSQL of this module's own (pgserver), which a test may stop and start."""

    def __init__(self, folder: Path) -> None:
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]  # made at import
        from pgserver.postgres_server import get_server

        self._pg_ctl = pg_ctl
        self._server = get_server(folder, cleanup_mode="stop")
        self.url = self._server.get_uri()
        info = self._server.get_postmaster_info()
        self._socket_dir = str(info.socket_dir)
        self._folder = folder

    def crash(self) -> None:
        self._pg_ctl(
            ["-m", "immediate", "-w", "stop"], pgdata=self._folder, user=self._server.system_user
        )

    def start(self) -> None:
        args = ["-w", "-o", '-h ""', "-o", f"-k {self._socket_dir}"]
        args += ["-l", str(self._folder / "log"), "start"]
        # Crash recovery on a busy machine can take a while; pg_ctl -w waits until it accepts.
        self._pg_ctl(args, pgdata=self._folder, user=self._server.system_user, timeout=180)

    def cleanup(self) -> None:
        self._server.cleanup()


@pytest.fixture(scope="module")
def postgres() -> Iterator[StoppablePostgres]:
    # Not under pytest's tmp root: pgserver runs the server as another user, and a
    # concurrent pytest run tightens that root's permissions again.
    folder = Path(tempfile.mkdtemp(prefix="zg-outage-"))
    server = StoppablePostgres(folder / "pg")
    try:
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def database_url(postgres: StoppablePostgres) -> Iterator[str]:
    """Overrides the suite's: this module's database lives on the server it stops."""
    with fresh_database(postgres.url) as url:
        yield url


async def test_a_database_outage_under_load_is_answered_and_loses_nothing(
    dev_server_env: WorkflowEnvironment,
    engine: Engine,
    database_url: str,
    tokens: dict[str, str],
    postgres: StoppablePostgres,
) -> None:
    api = make_api(dev_server_env, engine, database_url, tokens, command_timeout_seconds=3)
    async with build_worker(
        dev_server_env.client,
        EventStore(engine),
        task_queue=api.settings.task_queue,
        max_cached_workflows=10,
    ):
        case_id = await api.open_case()
        assert (await api.post(f"/cases/{case_id}/plan", {"plan": "方案"}, "unit")).is_success
        progress = f"/cases/{case_id}/progress"
        seen: list[str] = []
        bodies = [{"text": f"停库期间进展 {n}"} for n in range(16)]
        clients = [
            asyncio.create_task(
                api.send_until_answered(progress, body, "unit", f"pg-{uuid.uuid4()}", seen)
            )
            for body in bodies
        ]
        await asyncio.sleep(0.2)
        await asyncio.to_thread(postgres.crash)
        try:
            down = await api.get(f"/api/v1/cases/{case_id}", "unit")
            assert down.status_code == 503
            assert down.headers["content-type"].startswith("application/problem+json")
            problem = down.json()
            assert problem["code"] == "database_unavailable"
            assert problem["message_zh"] == "数据库暂不可用，请稍后重试"
            assert down.headers["Retry-After"] == "5"
            assert down.headers["X-Request-ID"] == problem["request_id"]
            health = await api.get("/api/v1/health", None)
            assert health.status_code == 503
            assert health.json()["database"]["ok"] is False
            assert health.json()["temporal"]["ok"] is True
            await asyncio.sleep(2)
        finally:
            await asyncio.to_thread(postgres.start)

        answers = await asyncio.wait_for(asyncio.gather(*clients), timeout=240)
        assert [a.status_code for a in answers] == [200] * len(bodies)
        texts = [d["text"] for t, d, _ in events_of(engine, case_id) if t == "ProgressReported"]
        assert sorted(texts) == sorted(b["text"] for b in bodies)  # 0 lost, 0 duplicated
        # The clients were told to retry (database_unavailable, or command_pending for one
        # whose workflow waited on the database); the exact answer to a read during the
        # outage is asserted above.
        assert seen
        healthy = await api.get("/api/v1/health", None)
        for _ in range(50):  # the pool reconnects on its next checkout
            if healthy.status_code == 200:
                break
            await asyncio.sleep(0.2)
            healthy = await api.get("/api/v1/health", None)
        assert healthy.status_code == 200
