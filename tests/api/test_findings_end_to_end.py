"""One case end to end: the real API, the Temporal dev server, a real worker, real PostgreSQL."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import Engine, func, select
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from settings import Settings
from store.tables import events
from tests.api.conftest import Stack

pytestmark = pytest.mark.integration


def _finding(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "title": "乡镇污水处理厂出水氨氮超标",
        "source": "audit",
        "unit_id": "county-env",
        "cadre_id": "cadre-42",
        "deadline": (date.today() + timedelta(days=60)).isoformat(),
    }
    body.update(overrides)
    return body


async def _post(
    stack: Stack, body: dict[str, object], who: str = "supervisor", **headers: str
) -> httpx.Response:
    return await stack.client.post(
        "/api/v1/findings", json=body, headers={**stack.auth(who), **headers}
    )


def _count_events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


async def test_posting_a_finding_opens_a_case_whose_events_are_in_postgres(
    stack: Stack, dev_server_env: WorkflowEnvironment
) -> None:
    created = await _post(stack, _finding())
    assert created.status_code == 201, created.text
    case = created.json()
    case_id = case["case_id"]
    assert case["workflow_id"] == f"case-{case_id}"
    assert case["state"]["status"] == "open"
    assert [e["type"] for e in case["events"]] == ["FindingRecorded", "CaseOpened"]
    assert [e["actor"] for e in case["events"]] == ["supervisor-user"] * 2
    assert case["events"][1]["previous_hash"] == case["events"][0]["hash"]
    assert created.headers["Location"] == f"/api/v1/cases/{case_id}"
    assert created.headers["X-Request-ID"]

    fetched = await stack.client.get(f"/api/v1/cases/{case_id}", headers=stack.auth("unit"))
    assert fetched.status_code == 200
    assert fetched.json() == case
    assert case["light"] == "green"
    assert case["next_timer"]["action"] == "reminder"  # 60 days out: the first reminder

    description = await dev_server_env.client.get_workflow_handle(case["workflow_id"]).describe()
    assert description.workflow_type == "RectificationCaseWorkflow"


async def test_a_repeated_idempotency_key_returns_the_same_case_and_starts_nothing(
    stack: Stack,
) -> None:
    key = f"k-{uuid.uuid4()}"
    first = await _post(stack, _finding(), **{"Idempotency-Key": key})
    assert first.status_code == 201
    before = _count_events(stack.engine)
    again = await _post(stack, _finding(), **{"Idempotency-Key": key})
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert _count_events(stack.engine) == before


async def test_an_idempotency_key_reused_with_another_body_is_refused(stack: Stack) -> None:
    key = f"k-{uuid.uuid4()}"
    assert (await _post(stack, _finding(), **{"Idempotency-Key": key})).status_code == 201
    before = _count_events(stack.engine)
    other = await _post(stack, _finding(title="另一个问题"), **{"Idempotency-Key": key})
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["code"] == "idempotency_key_reused"
    assert _count_events(stack.engine) == before


async def test_a_second_finding_with_the_same_id_is_a_conflict(stack: Stack) -> None:
    body = _finding(finding_id=f"f-{uuid.uuid4().hex[:8]}")
    assert (await _post(stack, body)).status_code == 201
    again = await _post(stack, body)
    assert again.status_code == 409
    assert again.json()["code"] == "finding_exists"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_finding(title=""), "body.title"),
        (_finding(source="gossip"), "body.source"),
        (_finding(deadline="not-a-date"), "body.deadline"),
        (_finding(unit_id="bad id!"), "body.unit_id"),
        (_finding(extra_field=1), "body.extra_field"),
        ({k: v for k, v in _finding().items() if k != "cadre_id"}, "body.cadre_id"),
        (_finding(unit_id="no-such-unit"), "body.unit_id"),
        (_finding(unit_id="other-env"), "body.unit_id"),  # exists, but outside the scope
        (_finding(cadre_id="no-such-cadre"), "body.cadre_id"),
    ],
)
async def test_bad_input_is_422_naming_the_field_and_writes_nothing(
    stack: Stack, body: dict[str, object], field: str
) -> None:
    before = _count_events(stack.engine)
    response = await _post(stack, body)
    assert response.status_code == 422
    problem = response.json()
    assert field in [e["field"] for e in problem["errors"]]
    assert problem["message_zh"]
    assert problem["message_en"]
    assert _count_events(stack.engine) == before


async def test_a_deadline_in_the_past_is_refused_by_the_domain_rule(stack: Stack) -> None:
    before = _count_events(stack.engine)
    response = await _post(stack, _finding(deadline=(date.today() - timedelta(days=1)).isoformat()))
    assert response.status_code == 422
    assert response.json()["code"] == "deadline_not_in_future"
    assert _count_events(stack.engine) == before


async def test_an_unknown_case_is_a_404_problem(stack: Stack) -> None:
    response = await stack.client.get(
        "/api/v1/cases/nope", headers={**stack.auth("supervisor"), "Accept-Language": "en"}
    )
    assert response.status_code == 404
    assert response.json()["code"] == "case_not_found"
    assert response.json()["title"] == "no case nope"


async def test_health_reports_database_and_temporal_reachable(stack: Stack) -> None:
    # The worker just started: it shows once its first poll reaches Temporal.
    deadline = time.monotonic() + 15
    response = await stack.client.get("/health")
    while response.json()["status"] != "ok" and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        response = await stack.client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": {"ok": True, "error": None},
        "temporal": {"ok": True, "error": None},
        "worker": {"ok": True, "error": None},
    }


async def test_health_says_when_no_worker_polls_the_case_queue(stack: Stack) -> None:
    stack.app.state.settings = stack.app.state.settings.model_copy(
        update={"task_queue": "a-queue-no-worker-polls"}
    )
    response = await stack.client.get("/health")
    assert response.status_code == 200  # reads still work; commands wait for a worker
    body = response.json()
    assert body["status"] == "degraded"
    assert body["worker"]["ok"] is False
    assert "a-queue-no-worker-polls" in body["worker"]["error"]


async def test_health_reports_unreachable_services() -> None:
    settings = Settings(
        database_url="postgresql://postgres@127.0.0.1:1/none", temporal_address="127.0.0.1:1"
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/api/v1/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"]["ok"] is False
    assert body["database"]["error"]
    assert body["temporal"]["ok"] is False
    assert body["temporal"]["error"]
    assert body["worker"] is None  # cannot be asked without Temporal


async def test_without_a_deadline_the_kinds_default_is_counted_in_working_days(
    stack: Stack,
) -> None:
    from datetime import UTC, datetime

    from domain.policy import DEFAULT_POLICY
    from domain.vocabulary import CaseKind

    body = {k: v for k, v in _finding(kind="immediate").items() if k != "deadline"}
    response = await _post(stack, body)
    assert response.status_code == 201, response.text
    opened = response.json()["events"][1]["data"]
    today = DEFAULT_POLICY.today(datetime.now(UTC))
    expected = DEFAULT_POLICY.default_deadline(CaseKind.IMMEDIATE, today)
    assert opened["deadline"] == expected.date.isoformat()
    # ten working days: never fewer than ten calendar days away
    assert (expected.date - today).days >= 10
