"""/metrics, /livez and /readyz: what Prometheus and an orchestrator see."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import Engine

from api.main import create_app
from settings import Settings
from store.engine import make_engine
from tests.api.conftest import Stack

pytestmark = pytest.mark.integration


def _samples(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(rf"{name}(\{{| )", line)]


async def test_metrics_count_requests_by_route_template_and_status(
    stack: Stack, projector: Callable[[], None]
) -> None:
    opened = await stack.client.post(
        "/api/v1/findings",
        json={
            "title": "污水处理厂出水超标",
            "source": "audit",
            "unit_id": "county-env",
            "cadre_id": "cadre-42",
            "deadline": "2099-12-31",
            "force_new": True,
        },
        headers=stack.auth("supervisor"),
    )
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    projector()
    for _ in range(3):
        page = await stack.client.get(f"/api/v1/cases/{case_id}", headers=stack.auth("unit"))
        assert page.status_code == 200
    missing = await stack.client.get("/api/v1/cases/no-such-case", headers=stack.auth("unit"))
    assert missing.status_code == 404

    response = await stack.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    body = response.text
    requests = _samples(body, "zhenggai_api_http_requests_total")
    # One series per route template, not per case; the status code ungrouped.
    assert any(
        'handler="/api/v1/cases/{case_id}"' in s and 'status="200"' in s and s.endswith(" 3.0")
        for s in requests
    ), requests
    assert any('status="404"' in s for s in requests), requests
    assert not any(case_id in s for s in requests)
    assert not any('handler="/metrics"' in s for s in requests)
    assert _samples(body, "zhenggai_api_http_request_duration_seconds_bucket")
    assert _samples(body, "process_resident_memory_bytes")
    open_cases = _samples(body, "zhenggai_cases_open")
    assert any('light="green"' in s and 'escalation_level="0"' in s for s in open_cases), body
    assert "zhenggai_cases_open_count_ok 1.0" in body


async def test_livez_and_readyz_answer_while_everything_is_up(stack: Stack) -> None:
    assert (await stack.client.get("/livez")).status_code == 200
    ready = await stack.client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["database"]["ok"] is True


async def test_readyz_is_503_when_the_database_is_unreachable() -> None:
    url = "postgresql://nobody@127.0.0.1:1/nothing"  # nothing listens on port 1
    engine: Engine = make_engine(url, pool_size=1)
    settings = Settings(database_url=url, temporal_address="127.0.0.1:1")
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/livez")).status_code == 200  # alive, not ready
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["database"]["ok"] is False
        metrics = await client.get("/metrics")  # still answers, and says the count failed
        assert metrics.status_code == 200
        assert "zhenggai_cases_open_count_ok 0.0" in metrics.text
    engine.dispose()
