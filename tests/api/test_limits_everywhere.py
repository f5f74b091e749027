"""Each limit in every place it is enforced.

- The evidence size limit is checked twice: on a declared Content-Length before the body
  is read, and on the bytes as they stream in (a chunked body declares no length, and
  a declared length can lie). Each is tried just under, on and just over the limit.
- An Idempotency-Key is bound to the request it first came with: the same key and the
  same body sent to another case is another request, refused, not a replay.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import text

from tests.api.conftest import Stack

pytestmark = pytest.mark.integration

LIMIT = 64 * 1024


def _pdf(size: int) -> bytes:
    """A PDF of exactly ``size`` bytes, unlike any other (files are kept by content)."""
    head = b"%PDF-1.7\n" + uuid.uuid4().hex.encode()
    return head + b"x" * (size - len(head))


async def _case(stack: Stack) -> str:
    body = {
        "title": f"限额测试 {uuid.uuid4().hex[:6]}",
        "source": "petition",
        "unit_id": "county-env",
        "cadre_id": "cadre-42",
        "deadline": (date.today() + timedelta(days=30)).isoformat(),
        "force_new": True,
    }
    response = await stack.client.post(
        "/api/v1/findings", json=body, headers=stack.auth("supervisor")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["case_id"])


def _stored_files(stack: Stack) -> int:
    with stack.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM evidence_files")).scalar_one())


async def _chunks(content: bytes, size: int = 8 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(content), size):
        yield content[start : start + size]


async def _upload(stack: Stack, case_id: str, content: bytes, how: str) -> httpx.Response:
    headers = {**stack.auth("unit"), "Content-Type": "application/pdf"}
    url = f"/api/v1/cases/{case_id}/evidence"
    params = {"name": "报告.pdf"}
    if how == "declared":  # httpx sends Content-Length
        return await stack.client.post(url, params=params, content=content, headers=headers)
    if how == "lying":  # a small Content-Length over a long body
        headers["Content-Length"] = "100"
    request = stack.client.build_request(
        "POST", url, params=params, content=_chunks(content), headers=headers
    )
    if how == "chunked":
        assert "content-length" not in request.headers
        assert request.headers["transfer-encoding"] == "chunked"
    return await stack.client.send(request)


@pytest.mark.parametrize("how", ["declared", "chunked"])
@pytest.mark.parametrize(
    ("size", "accepted"), [(LIMIT - 1, True), (LIMIT, True), (LIMIT + 1, False)]
)
async def test_the_evidence_size_limit_holds_with_or_without_a_declared_length(
    stack: Stack, how: str, size: int, accepted: bool
) -> None:
    stack.app.state.settings.evidence_max_bytes = LIMIT
    case_id = await _case(stack)
    before = _stored_files(stack)
    response = await _upload(stack, case_id, _pdf(size), how)
    if accepted:
        assert response.status_code == 201, response.text
        assert response.json()["size"] == size
        assert _stored_files(stack) == before + 1
    else:
        assert response.status_code == 413, response.text
        assert response.json()["code"] == "file_too_large"
        assert _stored_files(stack) == before


async def test_a_body_longer_than_its_declared_length_is_measured_as_it_streams(
    stack: Stack,
) -> None:
    stack.app.state.settings.evidence_max_bytes = LIMIT
    case_id = await _case(stack)
    before = _stored_files(stack)
    response = await _upload(stack, case_id, _pdf(LIMIT + 1), "lying")
    assert response.status_code in (400, 413), response.text
    assert _stored_files(stack) == before


async def test_the_same_key_and_body_on_another_case_is_refused_not_replayed(
    stack: Stack,
) -> None:
    first, second = await _case(stack), await _case(stack)
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    body = {"plan": "同一份整改方案"}
    headers = {**stack.auth("unit"), **key}
    done = await stack.client.post(f"/api/v1/cases/{first}/plan", json=body, headers=headers)
    assert done.status_code == 200, done.text
    elsewhere = await stack.client.post(f"/api/v1/cases/{second}/plan", json=body, headers=headers)
    assert elsewhere.status_code == 422, elsewhere.text
    assert elsewhere.json()["code"] == "idempotency_key_reused"
    assert "Idempotent-Replayed" not in elsewhere.headers
    case = await stack.client.get(f"/api/v1/cases/{second}", headers=stack.auth("unit"))
    types = [e["type"] for e in case.json()["events"]]
    assert "PlanSubmitted" not in types  # nothing ran on the second case
    again = await stack.client.post(f"/api/v1/cases/{first}/plan", json=body, headers=headers)
    assert again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"


async def test_the_same_key_on_another_kind_of_command_is_refused(stack: Stack) -> None:
    case_id = await _case(stack)
    headers = {**stack.auth("unit"), "Idempotency-Key": f"k-{uuid.uuid4()}"}
    plan = await stack.client.post(
        f"/api/v1/cases/{case_id}/plan", json={"plan": "方案"}, headers=headers
    )
    assert plan.status_code == 200, plan.text
    progress = await stack.client.post(
        f"/api/v1/cases/{case_id}/progress", json={"text": "方案"}, headers=headers
    )
    assert progress.status_code == 422, progress.text
    assert progress.json()["code"] == "idempotency_key_reused"
