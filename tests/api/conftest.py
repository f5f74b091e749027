"""The API on the real stack: the app, a worker on the Temporal dev server, PostgreSQL,
a small unit tree and a token per role."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from settings import Settings
from store.directory import Directory
from store.event_store import EventStore
from store.projections.lag import projection_lag
from store.projections.runner import run_projections
from store.tokens import Tokens
from worker import build_worker

# prov ─┬─ city ─┬─ county-env ─── env-station (the cases' unit, and its child)
#       │        └─ county-water               (a sibling of county-env)
#       └─ other-city ─── other-env            (a cousin: outside the city's subtree)
UNITS = [
    ("prov", "某省", None),
    ("city", "某市", "prov"),
    ("county-env", "某县生态环境局", "city"),
    ("other-city", "另一市", "prov"),
    ("other-env", "另一市生态环境局", "other-city"),
    ("county-water", "某县水利局", "city"),
    ("env-station", "某县环境监测站", "county-env"),
]
CADRES = [
    ("cadre-42", "王某", "county-env", "局长"),
    ("cadre-7", "李某", "other-env", "局长"),
    ("cadre-9", "赵某", "env-station", "站长"),
]
ROLES = {
    "admin": ("admin", None),
    "supervisor": ("supervisor", "city"),
    "province_supervisor": ("supervisor", "prov"),
    "other_supervisor": ("supervisor", "other-city"),
    "unit": ("unit", "county-env"),
    "other_unit": ("unit", "other-env"),
    "inspector": ("inspector", "city"),
    "other_inspector": ("inspector", "other-city"),
    # Around county-env: its sibling, its child and its parent, each as a unit user,
    # and supervisors and an inspector whose subtrees are a sibling's or a child's.
    "sibling_unit": ("unit", "county-water"),
    "child_unit": ("unit", "env-station"),
    "parent_unit": ("unit", "city"),
    "sibling_supervisor": ("supervisor", "county-water"),
    "child_supervisor": ("supervisor", "env-station"),
    "sibling_inspector": ("inspector", "county-water"),
    "own_supervisor": ("supervisor", "county-env"),
}


@dataclass
class Stack:
    app: FastAPI
    client: httpx.AsyncClient
    tokens: dict[str, str]
    engine: Engine

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture(scope="module")
def tokens(engine: Engine) -> dict[str, str]:
    Directory(engine).add_units(UNITS)
    Directory(engine).add_cadres(CADRES)
    issuer = Tokens(engine)
    return {
        who: issuer.create(role=role, unit_id=unit, name=f"{who}-user").secret
        for who, (role, unit) in ROLES.items()
    }


@pytest.fixture
async def stack(
    dev_server_env: WorkflowEnvironment, engine: Engine, database_url: str, tokens: dict[str, str]
) -> AsyncIterator[Stack]:
    queue = f"tq-{uuid.uuid4()}"
    settings = Settings(database_url=database_url, task_queue=queue)
    app = create_app(settings, engine=engine, temporal_client=dev_server_env.client)
    async with build_worker(
        dev_server_env.client, EventStore(engine), task_queue=queue, max_cached_workflows=10
    ):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Stack(app, client, tokens, engine)


@pytest.fixture(scope="module")
def projector(engine: Engine) -> Iterator[Callable[[], None]]:
    """The projections following this module's database; call the result to wait for them."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_projections, args=(engine, stop), kwargs={"retry": 0.5}, daemon=True
    )
    thread.start()

    def caught_up() -> None:
        deadline = time.monotonic() + 30
        while any(lag.events_behind for lag in projection_lag(engine)):
            assert time.monotonic() < deadline, "projections did not catch up"
            time.sleep(0.05)

    yield caught_up
    stop.set()
    thread.join(15)


async def open_case(stack: Stack, title: str, days: int, **extra: object) -> str:
    """A supervisor opens a case at county-env for cadre-42, due in ``days`` days."""
    body = {
        "title": title,
        "source": "audit",
        "unit_id": "county-env",
        "cadre_id": "cadre-42",
        "deadline": (date.today() + timedelta(days=days)).isoformat(),
        "force_new": True,
        **extra,
    }
    response = await stack.client.post(
        "/api/v1/findings", json=body, headers=stack.auth("supervisor")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["case_id"])
