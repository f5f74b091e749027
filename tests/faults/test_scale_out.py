"""Scale-out on real processes: two workers and two APIs on one Temporal server and one
PostgreSQL; clients spread over both APIs drive whole cases with Idempotency-Keys while
one worker is killed with -9; nothing is lost or doubled. Two projectors and two
dispatchers run, and each projection and the outbox is worked by one of them at a time:
the second copy waits on its advisory lock and takes over when the first dies."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text
from temporalio.testing import WorkflowEnvironment

from store.projections.lag import projection_lag
from store.projections.registry import PROJECTIONS
from tests.faults.conftest import PROJECT, RETRYABLE, WorkerProcess, events_of

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CASES = 6
PROGRESS = 4  # reports per case


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Child:
    """``python -m cli <args>`` with its own environment; killed with the test."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.args = args
        self.env = {**os.environ, "ZHENGGAI_LOG_FORMAT": "json", **env}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Child:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli", *self.args],
            env=self.env,
            cwd=PROJECT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.alive():
            assert self.process is not None
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@pytest.fixture
def children() -> Iterator[list[Child]]:
    started: list[Child] = []
    yield started
    for child in started:
        child.stop()


def _advisory_locks(engine: Engine, key: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database()) "
                    "AND ((classid::bigint << 32) | objid::bigint) = "
                    "hashtextextended(:key, 0)"
                ),
                {"key": key},
            ).scalar_one()
        )


def _projection_locks(engine: Engine) -> dict[str, int]:
    return {name: _advisory_locks(engine, f"projection:{name}") for name in PROJECTIONS}


async def _eventually(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def _up(url: str, seconds: float = 60) -> None:
    async with httpx.AsyncClient() as client:
        deadline = time.monotonic() + seconds
        while True:
            try:
                if (await client.get(url, timeout=2)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"{url} never answered"
            await asyncio.sleep(0.3)


class Clients:
    """Callers spread over the APIs: request n goes to API n mod 2, a retry to the next."""

    def __init__(self, bases: list[str], tokens: dict[str, str]) -> None:
        self.bases = bases
        self.tokens = tokens
        self.turn = 0
        self.retries: list[str] = []
        self.answered = 0
        self.http = httpx.AsyncClient(timeout=60)

    async def send(self, path: str, body: dict[str, Any], who: str, key: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}", "Idempotency-Key": key}
        self.turn += 1
        turn = self.turn
        for attempt in range(120):
            base = self.bases[(turn + attempt) % len(self.bases)]
            try:
                response = await self.http.post(f"{base}/api/v1{path}", json=body, headers=headers)
            except httpx.TransportError as exc:
                self.retries.append(type(exc).__name__)
                await asyncio.sleep(0.5)
                continue
            if response.status_code != 503:
                self.answered += 1
                return response
            code = response.json()["code"]
            assert code in RETRYABLE, response.text
            self.retries.append(code)
            await asyncio.sleep(0.5)
        raise AssertionError(f"no answer for {path} {key}")


async def _drive_case(clients: Clients, n: int) -> tuple[str, list[str]]:
    opened = await clients.send(
        "/findings",
        {
            "title": f"扩容测试问题 {n} {uuid.uuid4().hex[:6]}",
            "source": "audit",
            "unit_id": "county-env",
            "cadre_id": "cadre-42",
            "deadline": (date.today() + timedelta(days=90)).isoformat(),
            "force_new": True,
        },
        "supervisor",
        f"open-{uuid.uuid4()}",
    )
    assert opened.status_code == 201, opened.text
    case_id = str(opened.json()["case_id"])
    steps: list[tuple[str, dict[str, Any], str]] = [
        ("plan", {"plan": f"整改方案 {n}"}, "unit"),
        *[("progress", {"text": f"进展 {n}-{k}"}, "unit") for k in range(PROGRESS)],
        ("closure-request", {"summary": f"已完成 {n}", "evidence": []}, "unit"),
        ("verification", {"decision": "pass"}, "supervisor"),
    ]
    texts = []
    for step, body, who in steps:
        key = f"{step}-{uuid.uuid4()}"
        first = await clients.send(f"/cases/{case_id}/{step}", body, who, key)
        assert first.status_code == 200, (step, first.text)
        # The same request again, through the other API: the kept answer, nothing new.
        clients.turn += 1
        again = await clients.send(f"/cases/{case_id}/{step}", body, who, key)
        assert again.status_code == 200
        assert again.json() == first.json()
        if step == "progress":
            texts.append(body["text"])
    return case_id, texts


@pytest.mark.timeout(420)
async def test_two_workers_and_two_apis_lose_and_double_nothing_when_a_worker_dies(
    dev_server_env: WorkflowEnvironment,
    engine: Engine,
    database_url: str,
    tokens: dict[str, str],
    children: list[Child],
) -> None:
    queue = f"tq-{uuid.uuid4()}"
    target = dev_server_env.client.service_client.config.target_host
    env = {
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": target,
        "ZHENGGAI_TASK_QUEUE": queue,
        "ZHENGGAI_COMMAND_TIMEOUT_SECONDS": "3",
    }
    worker_metrics = _free_port()
    workers = [
        WorkerProcess(database_url, target, queue),
        WorkerProcess(database_url, target, queue),
    ]
    workers[0]._env["ZHENGGAI_WORKER_METRICS_PORT"] = str(worker_metrics)
    for worker in workers:
        worker.start()
    ports = [_free_port(), _free_port()]
    for port in ports:
        children.append(Child(["api", "--port", str(port)], env).start())
    try:
        await asyncio.gather(*(_up(f"http://127.0.0.1:{p}/readyz") for p in ports))
        clients = Clients([f"http://127.0.0.1:{p}" for p in ports], tokens)

        answered_at_kill: list[int] = []
        total = CASES * (1 + 2 * (PROGRESS + 3))

        async def kill_one_worker() -> None:
            # Mid-burst whatever the machine's speed: once a fifth of the answers are in.
            for _ in range(60_000):  # at most 5 minutes
                if clients.answered >= total // 5:
                    break
                await asyncio.sleep(0.005)
            workers[0].kill()
            answered_at_kill.append(clients.answered)

        killer = asyncio.create_task(kill_one_worker())
        driven = await asyncio.wait_for(
            asyncio.gather(*(_drive_case(clients, n) for n in range(CASES))), timeout=300
        )
        await killer
        await clients.http.aclose()

        for case_id, texts in driven:
            types = [t for t, _, _ in events_of(engine, case_id)]
            progress = [
                d["text"] for t, d, _ in events_of(engine, case_id) if t == "ProgressReported"
            ]
            assert sorted(progress) == sorted(texts), case_id  # 0 lost, 0 doubled
            assert types.count("CaseClosed") == 1, types
            assert types.count("PlanSubmitted") == 1, types
            assert types.count("ClosureRequested") == 1, types
        assert len({case_id for case_id, _ in driven}) == CASES

        assert 0 < answered_at_kill[0] < total, answered_at_kill  # the kill was mid-burst
    finally:
        for worker in workers:
            worker.stop()

    # Projectors and dispatchers: the first of each takes the locks, the second waits.
    projector_port, dispatcher_port = _free_port(), _free_port()
    projectors = [
        Child(["projector"], {**env, "ZHENGGAI_PROJECTOR_METRICS_PORT": str(projector_port)}),
        Child(["projector"], env),
    ]
    dispatchers = [
        Child(["dispatcher"], {**env, "ZHENGGAI_DISPATCHER_METRICS_PORT": str(dispatcher_port)}),
        Child(["dispatcher"], env),
    ]
    children.extend(projectors + dispatchers)
    projectors[0].start()
    dispatchers[0].start()
    await _eventually(
        lambda: all(_projection_locks(engine).values()), 60, "the first projector's locks"
    )
    await _eventually(
        lambda: _advisory_locks(engine, "process:dispatcher") == 1, 60, "the dispatcher's lock"
    )
    projectors[1].start()
    dispatchers[1].start()
    await asyncio.sleep(4)  # both second copies have tried by now
    assert all(c.alive() for c in projectors + dispatchers)
    assert _projection_locks(engine) == dict.fromkeys(PROJECTIONS, 1)
    assert _advisory_locks(engine, "process:dispatcher") == 1

    async with httpx.AsyncClient() as http:
        projector_text = (await http.get(f"http://127.0.0.1:{projector_port}/metrics")).text
        dispatcher_text = (await http.get(f"http://127.0.0.1:{dispatcher_port}/metrics")).text
    assert 'zhenggai_projection_events_behind{projection="case_summary"}' in projector_text
    assert "zhenggai_projector_scrape_ok 1.0" in projector_text
    assert "zhenggai_outbox_rows" in dispatcher_text
    assert "zhenggai_dispatcher_scrape_ok 1.0" in dispatcher_text

    # The first copies die; the waiting ones take over within their retry pause (60 s
    # allowed: a saturated machine once took just over 30 s to start the standby's pass).
    projectors[0].kill()
    dispatchers[0].kill()
    await _eventually(
        lambda: _projection_locks(engine) == dict.fromkeys(PROJECTIONS, 1), 60, "projector takeover"
    )
    await _eventually(
        lambda: _advisory_locks(engine, "process:dispatcher") == 1, 60, "dispatcher takeover"
    )
    await _eventually(
        lambda: not any(lag.events_behind for lag in projection_lag(engine)), 60, "caught up"
    )
    with engine.connect() as conn:
        closed = conn.execute(
            text(
                "SELECT count(*) FROM case_summary WHERE case_id = ANY(:ids) AND status = 'closed'"
            ),
            {"ids": [case_id for case_id, _ in driven]},
        ).scalar_one()
    assert closed == CASES


@pytest.mark.timeout(120)
async def test_worker_serves_the_sdk_metrics_on_its_port(
    dev_server_env: WorkflowEnvironment, database_url: str
) -> None:
    port = _free_port()
    target = dev_server_env.client.service_client.config.target_host
    worker = WorkerProcess(database_url, target, f"tq-{uuid.uuid4()}")
    worker._env["ZHENGGAI_WORKER_METRICS_PORT"] = str(port)
    worker.start()
    try:
        await _up(f"http://127.0.0.1:{port}/metrics")
        async with httpx.AsyncClient() as http:
            body = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
        assert "temporal_" in body, body[:500]
    finally:
        worker.stop()
