"""减负: a finding repeating an open case of the same unit is merged into it, not opened twice."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from tests.api.conftest import Stack

pytestmark = pytest.mark.integration


def _finding(title: str, source: str = "audit", **extra: object) -> dict[str, object]:
    return {
        "title": title,
        "source": source,
        "unit_id": "county-env",
        "cadre_id": "cadre-42",
        "description": "城东污水处理厂出水氨氮长期超标，群众反映强烈",
        "category": "ecology",
        "deadline": (date.today() + timedelta(days=45)).isoformat(),
        **extra,
    }


async def test_the_same_problem_from_another_channel_joins_the_open_case(
    stack: Stack, projector: Callable[[], None]
) -> None:
    first = await stack.client.post(
        "/api/v1/findings",
        json=_finding("城东污水处理厂氨氮超标"),
        headers=stack.auth("supervisor"),
    )
    assert first.status_code == 201
    case_id = first.json()["case_id"]
    projector()

    again = await stack.client.post(
        "/api/v1/findings",
        json=_finding("城东污水处理厂出水氨氮超标", source="petition"),
        headers=stack.auth("supervisor"),
    )
    assert again.status_code == 200, again.text
    merged = again.json()
    assert merged["case_id"] == case_id
    assert merged["merged"]["case_id"] == case_id
    assert 0.6 <= float(merged["merged"]["similarity"]) <= 1
    assert merged["events"][-1]["type"] == "DuplicateFindingMerged"
    assert merged["events"][-1]["data"]["source"] == "petition"
    with stack.engine.connect() as conn:
        streams = conn.execute(
            text("SELECT count(*) FROM streams WHERE stream_id = :s"),
            {"s": f"case-{merged['merged']['finding_id']}"},
        ).scalar_one()
    assert streams == 0  # no second case


async def test_force_new_opens_a_second_case_anyway(
    stack: Stack, projector: Callable[[], None]
) -> None:
    first = await stack.client.post(
        "/api/v1/findings",
        json=_finding("城西垃圾填埋场渗滤液外溢"),
        headers=stack.auth("supervisor"),
    )
    assert first.status_code == 201
    projector()
    forced = await stack.client.post(
        "/api/v1/findings",
        json=_finding("城西垃圾填埋场渗滤液外溢", force_new=True),
        headers=stack.auth("supervisor"),
    )
    assert forced.status_code == 201
    assert forced.json()["case_id"] != first.json()["case_id"]
    assert forced.json()["merged"] is None


async def test_a_repeated_merge_request_returns_the_first_answer(
    stack: Stack, projector: Callable[[], None]
) -> None:
    first = await stack.client.post(
        "/api/v1/findings", json=_finding("城南河道黑臭问题"), headers=stack.auth("supervisor")
    )
    assert first.status_code == 201
    projector()
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    body = _finding("城南河道黑臭问题突出", source="inspection")
    one = await stack.client.post(
        "/api/v1/findings", json=body, headers={**stack.auth("supervisor"), **key}
    )
    two = await stack.client.post(
        "/api/v1/findings", json=body, headers={**stack.auth("supervisor"), **key}
    )
    assert one.status_code == two.status_code == 200
    assert two.headers["Idempotent-Replayed"] == "true"
    assert two.json()["merged"] == one.json()["merged"]
    merges = [e for e in two.json()["events"] if e["type"] == "DuplicateFindingMerged"]
    assert len(merges) == 1


async def test_a_different_problem_of_the_same_unit_opens_its_own_case(
    stack: Stack, projector: Callable[[], None]
) -> None:
    await stack.client.post(
        "/api/v1/findings", json=_finding("城北工地扬尘"), headers=stack.auth("supervisor")
    )
    projector()
    other = await stack.client.post(
        "/api/v1/findings",
        json={**_finding("中小学食堂食品安全管理"), "category": "livelihood", "description": ""},
        headers=stack.auth("supervisor"),
    )
    assert other.status_code == 201
    assert other.json()["merged"] is None
