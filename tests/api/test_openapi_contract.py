"""schemathesis against the live app: no 5xx, every response matches the OpenAPI document.

The app runs under uvicorn in a thread and the worker in another, on the
Temporal dev server and PostgreSQL, so generated requests meet the real stack.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis import checks as st_checks
from schemathesis.core.result import Ok
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from settings import Settings
from store.event_store import EventStore
from worker import build_worker

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _WorkerThread(threading.Thread):
    def __init__(self, address: str, engine: Engine, queue: str) -> None:
        super().__init__(daemon=True)
        self.address, self.engine, self.queue = address, engine, queue
        self.stop = threading.Event()

    def run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        client = await Client.connect(self.address, data_converter=pydantic_data_converter)
        async with build_worker(
            client, EventStore(self.engine), task_queue=self.queue, max_cached_workflows=50
        ):
            await asyncio.to_thread(self.stop.wait)


@pytest.fixture(scope="module")
def live_api(
    dev_server_env: WorkflowEnvironment,
    engine: Engine,
    database_url: str,
    tokens: dict[str, str],
) -> Iterator[str]:
    address = dev_server_env.client.service_client.config.target_host
    queue = f"tq-{uuid.uuid4()}"
    worker = _WorkerThread(address, engine, queue)
    worker.start()
    settings_ = Settings(database_url=database_url, temporal_address=address, task_queue=queue)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings_), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    yield base
    server.should_exit = True
    thread.join(10)
    worker.stop.set()
    worker.join(10)


CHECKS = [
    st_checks.not_a_server_error,
    st_checks.response_schema_conformance,
    st_checks.content_type_conformance,
    st_checks.status_code_conformance,
]


def test_no_server_errors_and_responses_match_the_schema(
    live_api: str, tokens: dict[str, str]
) -> None:
    # schemathesis' own pytest plugin does not run under pytest 9 yet, so each
    # operation's strategy is driven by hypothesis directly.
    schema = schemathesis.openapi.from_url(f"{live_api}/openapi.json")
    headers = {"Authorization": f"Bearer {tokens['province_supervisor']}"}
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    assert len(operations) > 20

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
        def exercise(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        exercise()
