"""分类考核 through the API: units carry a class, and a finding's case opens under its
unit's class's rules, recorded (version, content hash, class) in its opening event."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from domain.policy import PolicyBook, policy_book_from_toml
from settings import Settings
from store.event_store import EventStore
from tests.api.conftest import Stack
from worker import build_worker

pytestmark = pytest.mark.integration

BOOK: PolicyBook = policy_book_from_toml(
    """
version = "2027-县考核"

[classes.township]
label = "乡镇"
reminder_working_days = [2]
[classes.township.deadlines]
immediate = 5

[classes.state_enterprise]
label = "国有企业"
extension_cap = 1
[classes.state_enterprise.deadlines]
immediate = 20
"""
)


@pytest.fixture
async def classed(
    dev_server_env: WorkflowEnvironment, engine: Engine, database_url: str, tokens: dict[str, str]
) -> AsyncIterator[Stack]:
    """The API and a worker, with the policy above handed in instead of a file."""
    queue = f"tq-{uuid.uuid4()}"
    settings = Settings(database_url=database_url, task_queue=queue)
    app = create_app(settings, engine=engine, temporal_client=dev_server_env.client, policy=BOOK)
    async with build_worker(
        dev_server_env.client, EventStore(engine), task_queue=queue, max_cached_workflows=10
    ):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Stack(app, client, tokens, engine)


async def _add_unit(stack: Stack, unit_id: str, unit_class: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"unit_id": unit_id, "name": f"单位 {unit_id}", "parent_id": "city"}
    if unit_class is not None:
        body["class"] = unit_class
    response = await stack.client.post("/api/v1/units", json=[body], headers=stack.auth("admin"))
    assert response.status_code == 201, response.text
    cadre = {"cadre_id": f"c-{unit_id}", "name": "张某", "unit_id": unit_id}
    response2 = await stack.client.post("/api/v1/cadres", json=[cadre], headers=stack.auth("admin"))
    assert response2.status_code == 201, response2.text
    unit: dict[str, Any] = response.json()[0]
    return unit


async def _open(stack: Stack, unit_id: str) -> dict[str, Any]:
    body = {
        "title": "村级垃圾清运不及时",
        "source": "routine",
        "unit_id": unit_id,
        "cadre_id": f"c-{unit_id}",
        "kind": "immediate",  # no deadline: the kind's default under the unit's rules
        "force_new": True,
    }
    response = await stack.client.post(
        "/api/v1/findings", json=body, headers=stack.auth("supervisor")
    )
    assert response.status_code == 201, response.text
    case: dict[str, Any] = response.json()
    return case


def _opening(case: dict[str, Any]) -> dict[str, Any]:
    (opened,) = [e["data"] for e in case["events"] if e["type"] == "CaseOpened"]
    data: dict[str, Any] = opened
    return data


async def test_a_unit_is_created_with_its_class_and_reads_back_with_it(classed: Stack) -> None:
    unit_id = f"tw-{uuid.uuid4().hex[:8]}"
    created = await _add_unit(classed, unit_id, "township")
    assert created["class"] == "township"
    subtree = await classed.client.get(
        f"/api/v1/units/{unit_id}/subtree", headers=classed.auth("supervisor")
    )
    assert subtree.json()[0]["class"] == "township"


async def test_a_class_the_policy_does_not_define_is_refused(classed: Stack) -> None:
    body = [{"unit_id": "dev-zone", "name": "开发区", "parent_id": "city", "class": "开发区"}]
    response = await classed.client.post("/api/v1/units", json=body, headers=classed.auth("admin"))
    assert response.status_code == 422
    assert response.json()["code"] == "unit_class_unknown"
    missing = await classed.client.get(
        "/api/v1/units/dev-zone/subtree", headers=classed.auth("supervisor")
    )
    assert missing.status_code == 404  # nothing written


async def test_the_same_finding_opens_under_each_units_class_rules(classed: Stack) -> None:
    suffix = uuid.uuid4().hex[:8]
    await _add_unit(classed, f"town-{suffix}", "township")
    await _add_unit(classed, f"soe-{suffix}", "state_enterprise")
    await _add_unit(classed, f"plain-{suffix}", None)

    township = await _open(classed, f"town-{suffix}")
    enterprise = await _open(classed, f"soe-{suffix}")
    plain = await _open(classed, f"plain-{suffix}")

    opened = {
        name: _opening(case)
        for name, case in (("township", township), ("enterprise", enterprise), ("plain", plain))
    }
    assert opened["township"]["deadline_working_days"] == 5
    assert opened["enterprise"]["deadline_working_days"] == 20
    assert opened["plain"]["deadline_working_days"] == 10  # the base rules
    assert opened["township"]["deadline"] < opened["plain"]["deadline"]
    assert opened["plain"]["deadline"] < opened["enterprise"]["deadline"]

    for name, unit_class in (("township", "township"), ("enterprise", "state_enterprise")):
        assert opened[name]["policy_class"] == unit_class
        assert opened[name]["policy_version"] == "2027-县考核"
        assert opened[name]["policy_hash"] == BOOK.for_class(unit_class).fingerprint()
    assert opened["plain"]["policy_class"] is None
    assert opened["plain"]["policy_hash"] == BOOK.base.fingerprint()
    assert len({o["policy_hash"] for o in opened.values()}) == 3

    # The answer says whether the deadline stands on a provisional calendar year.
    for case in (township, enterprise, plain):
        assert case["state"]["deadline_provisional"] is _opening(case)["deadline_provisional"]
