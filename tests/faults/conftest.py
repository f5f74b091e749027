"""Fault tests: the real stack (PostgreSQL, the Temporal dev server, the API app) with
parts killed, stopped or tampered with while clients retry. Every wait is bounded."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, text
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from settings import Settings
from store.directory import Directory
from store.tokens import Tokens

UNITS = [("city", "某市", None), ("county-env", "某县生态环境局", "city")]
CADRES = [("cadre-42", "王某", "county-env", "局长")]
ROLES = {
    "supervisor": ("supervisor", "city"),
    "unit": ("unit", "county-env"),
    "second_unit_user": ("unit", "county-env"),
    "inspector": ("inspector", "city"),
}
# What a client is told to retry (with the same Idempotency-Key) after Retry-After.
RETRYABLE = {"command_pending", "temporal_unavailable", "database_unavailable"}
PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def tokens(engine: Engine) -> dict[str, str]:
    Directory(engine).add_units(UNITS)
    Directory(engine).add_cadres(CADRES)
    issuer = Tokens(engine)
    return {
        who: issuer.create(role=role, unit_id=unit, name=f"{who}-user").secret
        for who, (role, unit) in ROLES.items()
    }


@dataclass
class Api:
    """An API app over the test database; ``restart`` builds a new one (an API restart)."""

    settings: Settings
    engine: Engine
    env: WorkflowEnvironment
    tokens: dict[str, str]
    app: FastAPI | None = None

    def restart(self) -> None:
        self.app = create_app(self.settings, engine=self.engine, temporal_client=self.env.client)

    async def post(
        self, path: str, body: dict[str, Any], who: str, key: str | None = None
    ) -> httpx.Response:
        assert self.app is not None
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post(f"/api/v1{path}", json=body, headers=headers, timeout=60)

    async def get(self, path: str, who: str | None) -> httpx.Response:
        assert self.app is not None
        headers = {} if who is None else {"Authorization": f"Bearer {self.tokens[who]}"}
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path, headers=headers, timeout=60)

    async def send_until_answered(
        self, path: str, body: dict[str, Any], who: str, key: str, seen: list[str]
    ) -> httpx.Response:
        """A client that retries with the same key on 503, as the answer tells it to."""
        for _ in range(90):
            response = await self.post(path, body, who, key)
            if response.status_code != 503:
                return response
            problem = response.json()
            seen.append(problem["code"])
            assert problem["code"] in RETRYABLE, problem
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.headers["Retry-After"] == "5"
            assert response.headers["X-Request-ID"] == problem["request_id"]
            await asyncio.sleep(0.5)
        raise AssertionError(f"no answer for {key}")

    async def open_case(self, seconds: float = 60) -> str:
        """Retries by key while the answer is 503 (a worker still starting)."""
        key = f"open-{uuid.uuid4()}"
        body = {
            "title": f"污水处理厂出水超标 {uuid.uuid4().hex[:6]}",
            "source": "audit",
            "unit_id": "county-env",
            "cadre_id": "cadre-42",
            "deadline": (date.today() + timedelta(days=90)).isoformat(),
            "force_new": True,
        }
        deadline = time.monotonic() + seconds
        response = await self.post("/findings", body, "supervisor", key)
        while response.status_code == 503 and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            response = await self.post("/findings", body, "supervisor", key)
        assert response.status_code == 201, response.text
        return str(response.json()["case_id"])


def make_api(
    env: WorkflowEnvironment,
    engine: Engine,
    database_url: str,
    tokens: dict[str, str],
    **extra: Any,
) -> Api:
    settings = Settings(database_url=database_url, task_queue=f"tq-{uuid.uuid4()}", **extra)
    api = Api(settings, engine, env, tokens)
    api.restart()
    return api


def events_of(engine: Engine, case_id: str) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(type, data, metadata) of the case's stream, in order."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT type, data, metadata FROM events WHERE stream_id = :s ORDER BY version"),
            {"s": f"case-{case_id}"},
        ).all()
    return [(r.type, r.data, r.metadata) for r in rows]


class WorkerProcess:
    """``zhenggai worker`` as a child process, so a test can kill it with -9."""

    def __init__(self, database_url: str, temporal_address: str, task_queue: str) -> None:
        self._env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "TEMPORAL_ADDRESS": temporal_address,
            "ZHENGGAI_TASK_QUEUE": task_queue,
            "ZHENGGAI_LOG_FORMAT": "json",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli", "worker"],
            env=self._env,
            cwd=PROJECT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@pytest.fixture
def worker_process(
    dev_server_env: WorkflowEnvironment, database_url: str
) -> Iterator[tuple[WorkerProcess, str]]:
    queue = f"tq-{uuid.uuid4()}"
    target = dev_server_env.client.service_client.config.target_host
    worker = WorkerProcess(database_url, target, queue)
    worker.start()
    try:
        yield worker, queue
    finally:
        worker.stop()


async def until(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)
