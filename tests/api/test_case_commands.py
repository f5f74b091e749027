"""Commands on a case through the API: each is an Update of the case's workflow."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.api.conftest import Stack

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.7\n" + "整改佐证".encode() * 10


async def _case(stack: Stack) -> str:
    body = {
        "title": "老旧小区改造进度滞后",
        "source": "public_rating",
        "unit_id": "county-env",
        "cadre_id": "cadre-42",
        "deadline": (date.today() + timedelta(days=60)).isoformat(),
    }
    response = await stack.client.post(
        "/api/v1/findings", json=body, headers=stack.auth("supervisor")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["case_id"])


async def _command(
    stack: Stack, case_id: str, path: str, body: dict[str, Any], who: str, **headers: str
) -> httpx.Response:
    return await stack.client.post(
        f"/api/v1/cases/{case_id}/{path}", json=body, headers={**stack.auth(who), **headers}
    )


def _types(stack: Stack, case_id: str) -> list[str]:
    with stack.engine.connect() as conn:
        return list(
            conn.execute(
                text("SELECT type FROM events WHERE stream_id = :s ORDER BY version"),
                {"s": f"case-{case_id}"},
            ).scalars()
        )


async def test_plan_progress_with_evidence_closure_rejected_then_verified(stack: Stack) -> None:
    case_id = await _case(stack)
    plan = await _command(stack, case_id, "plan", {"plan": "分三步整改"}, "unit")
    assert plan.status_code == 200, plan.text
    uploaded = await stack.client.post(
        f"/api/v1/cases/{case_id}/evidence",
        params={"name": "现场照片.pdf"},
        content=PDF,
        headers={**stack.auth("unit"), "Content-Type": "application/pdf"},
    )
    evidence = uploaded.json()
    progress = await _command(
        stack,
        case_id,
        "progress",
        {"text": "已完成第一步", "evidence": [evidence], "percent_complete": 40},
        "unit",
    )
    assert progress.status_code == 200, progress.text
    closure = await _command(stack, case_id, "closure-request", {"summary": "已整改完毕"}, "unit")
    assert closure.status_code == 200, closure.text
    assert closure.json()["status"] == "closure_pending"

    rejected = await _command(
        stack, case_id, "verification", {"decision": "reject", "reason": "佐证不足"}, "supervisor"
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "open"
    again = await _command(stack, case_id, "closure-request", {"summary": "补充佐证"}, "unit")
    assert again.status_code == 200
    passed = await _command(
        stack, case_id, "verification", {"decision": "pass", "comment": "验收通过"}, "supervisor"
    )
    assert passed.status_code == 200, passed.text
    assert passed.json()["status"] == "closed"

    types = _types(stack, case_id)
    assert types[:2] == ["FindingRecorded", "CaseOpened"]
    assert "PlanSubmitted" in types
    assert "ProgressReported" in types
    assert "ClosureRejected" in types
    assert types.index("ClosureRejected") < types.index("ClosureVerified")
    with stack.engine.connect() as conn:
        data = conn.execute(
            text("SELECT data FROM events WHERE stream_id = :s AND type = 'ProgressReported'"),
            {"s": f"case-{case_id}"},
        ).scalar_one()
    assert data["evidence"][0]["content_hash"] == hashlib.sha256(PDF).hexdigest()


async def test_a_refused_command_carries_the_domain_code_and_writes_nothing(
    stack: Stack,
) -> None:
    case_id = await _case(stack)
    before = _types(stack, case_id)
    # Closure before any plan breaks a state rule.
    early = await _command(stack, case_id, "closure-request", {"summary": "完成"}, "unit")
    assert early.status_code in (409, 422)
    problem = early.json()
    assert problem["code"]
    assert problem["message_zh"] != problem["message_en"]
    # A unit may not verify; its role is refused by the domain (403).
    wrong_role = await _command(stack, case_id, "withdraw", {"reason": "误报"}, "unit")
    assert wrong_role.status_code == 403
    assert _types(stack, case_id) == before


@pytest.mark.parametrize(
    ("who", "status"), [("other_unit", 404), ("other_supervisor", 404), ("admin", 404)]
)
async def test_commands_outside_scope_are_404(stack: Stack, who: str, status: int) -> None:
    case_id = await _case(stack)
    response = await _command(stack, case_id, "plan", {"plan": "x"}, who)
    assert response.status_code == status


async def test_an_inspector_changes_nothing(stack: Stack) -> None:
    case_id = await _case(stack)
    response = await _command(stack, case_id, "plan", {"plan": "x"}, "inspector")
    assert response.status_code == 403
    assert response.json()["code"] == "inspector_read_only"


async def test_evidence_not_uploaded_to_the_case_is_refused(stack: Stack) -> None:
    case_id = await _case(stack)
    await _command(stack, case_id, "plan", {"plan": "方案"}, "unit")
    fake = {"content_hash": "ab" * 32, "name": "x.pdf", "media_type": "application/pdf", "size": 9}
    response = await _command(
        stack, case_id, "progress", {"text": "进展", "evidence": [fake]}, "unit"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "evidence_not_uploaded"


async def test_a_repeated_idempotency_key_runs_the_command_once(stack: Stack) -> None:
    case_id = await _case(stack)
    await _command(stack, case_id, "plan", {"plan": "方案"}, "unit")
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    body = {"text": "第一次进展"}
    first = await _command(stack, case_id, "progress", body, "unit", **key)
    second = await _command(stack, case_id, "progress", body, "unit", **key)
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert _types(stack, case_id).count("ProgressReported") == 1
    other = await _command(stack, case_id, "progress", {"text": "别的"}, "unit", **key)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


async def test_reassignment_to_a_unit_outside_scope_is_refused(stack: Stack) -> None:
    case_id = await _case(stack)
    body = {"unit_id": "other-env", "cadre_id": "cadre-7", "reason": "职责调整"}
    response = await _command(stack, case_id, "reassign", body, "supervisor")
    assert response.status_code == 422
    assert response.json()["code"] == "unit_not_found"
    wide = await _command(stack, case_id, "reassign", body, "province_supervisor")
    assert wide.status_code == 200, wide.text
    assert wide.json()["unit_id"] == "other-env"


async def test_a_cadre_outside_scope_is_refused_like_a_missing_one(stack: Stack) -> None:
    """cadre-7 works at other-env, in another city: the city's supervisor may not name
    them, by assignment or by transfer to a unit of the city; the province's may."""
    case_id = await _case(stack)
    before = _types(stack, case_id)
    for path, body in (
        ("assign", {"cadre_id": "cadre-7", "reason": "调整"}),
        ("reassign", {"unit_id": "county-water", "cadre_id": "cadre-7", "reason": "调整"}),
        ("assign", {"cadre_id": "cadre-nobody", "reason": "调整"}),
    ):
        refused = await _command(stack, case_id, path, body, "supervisor")
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "cadre_not_found"
        assert "不在您的管辖范围内" in refused.json()["message_zh"]
    assert _types(stack, case_id) == before  # nothing written
    wide = await _command(
        stack, case_id, "assign", {"cadre_id": "cadre-7", "reason": "调整"}, "province_supervisor"
    )
    assert wide.status_code == 200, wide.text
    assert wide.json()["cadre_id"] == "cadre-7"


async def test_a_finding_naming_a_cadre_outside_scope_is_refused(stack: Stack) -> None:
    body = {
        "source": "audit",
        "title": f"辖区外责任人 {uuid.uuid4().hex[:6]}",
        "unit_id": "county-env",
        "cadre_id": "cadre-7",
        "deadline": (date.today() + timedelta(days=30)).isoformat(),
    }
    response = await stack.client.post(
        "/api/v1/findings", json=body, headers=stack.auth("supervisor")
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "cadre_not_found"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("plan", {}),
        ("plan", {"plan": "x", "actor": {"user_id": "boss", "role": "supervisor"}}),
        ("extension-decision", {"decision": "maybe"}),
        ("satisfaction", {"score_percent": 101}),
        ("extension-request", {"reason": "r", "proposed_deadline": "someday"}),
    ],
)
async def test_malformed_command_bodies_are_422(
    stack: Stack, path: str, body: dict[str, Any]
) -> None:
    case_id = await _case(stack)
    response = await _command(stack, case_id, path, body, "supervisor")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"
