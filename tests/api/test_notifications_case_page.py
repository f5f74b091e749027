"""Notices through the API on the real stack (worker with the outbox sink): a closure
request to a supervising side with no contacts is an ``unaddressed`` row, listed for
admins and counted on the case; the link in a notice opens a page for people."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from activities.notifications import OutboxNotificationSink
from api.main import create_app
from settings import Settings
from store.event_store import EventStore
from tests.api.conftest import Stack, open_case
from worker import build_worker

pytestmark = pytest.mark.integration


@pytest.fixture
async def outbox_stack(
    dev_server_env: WorkflowEnvironment, engine: Engine, database_url: str, tokens: dict[str, str]
) -> AsyncIterator[Stack]:
    queue = f"tq-{uuid.uuid4()}"
    settings = Settings(database_url=database_url, task_queue=queue)
    app = create_app(settings, engine=engine, temporal_client=dev_server_env.client)
    store = EventStore(engine)
    async with build_worker(
        dev_server_env.client,
        store,
        task_queue=queue,
        max_cached_workflows=10,
        notifications=OutboxNotificationSink(store),
    ):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Stack(app, client, tokens, engine)


async def _post(stack: Stack, case_id: str, path: str, body: dict[str, str], who: str) -> None:
    response = await stack.client.post(
        f"/api/v1/cases/{case_id}/{path}", json=body, headers=stack.auth(who)
    )
    assert response.status_code == 200, response.text


async def test_a_closure_request_nobody_can_receive_is_unaddressed_and_counted(
    outbox_stack: Stack,
) -> None:
    stack = outbox_stack
    case_id = await open_case(stack, "污水直排未整改", 40)
    await _post(stack, case_id, "plan", {"plan": "截污纳管"}, "unit")
    await _post(stack, case_id, "closure-request", {"summary": "已完成"}, "unit")

    case = await stack.client.get(f"/api/v1/cases/{case_id}", headers=stack.auth("unit"))
    assert case.status_code == 200, case.text
    assert case.json()["notices"]["unaddressed"] == 1
    assert case.json()["notices"]["sent"] == 0  # nothing claims it was sent

    listed = await stack.client.get(
        "/api/v1/notifications",
        params={"status": "unaddressed", "case_id": case_id},
        headers=stack.auth("admin"),
    )
    assert listed.status_code == 200, listed.text
    (row,) = listed.json()
    assert (row["kind"], row["channel"], row["status"]) == (
        "closure_requested",
        None,
        "unaddressed",
    )
    assert row["recipient"] == "county-env/supervising"


async def test_the_link_of_a_notice_opens_a_page_for_people_without_a_token(
    outbox_stack: Stack,
) -> None:
    page = await outbox_stack.client.get("/cases/abc-123")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "abc-123" in page.text
    assert "请登录" in page.text
    bad = await outbox_stack.client.get("/cases/<script>")
    assert bad.status_code == 404
    assert "<script>" not in bad.text
    assert bad.headers["content-type"].startswith("text/html")
    schema = await outbox_stack.client.get("/openapi.json")
    if schema.status_code == 200:
        assert "/cases/{case_id}" not in schema.json()["paths"]


def test_links_default_to_where_the_api_serves() -> None:
    assert Settings(api_port=8123).public_base_url == "http://127.0.0.1:8123"
    assert Settings(public_base_url="https://zg.example.cn").public_base_url == (
        "https://zg.example.cn"
    )
