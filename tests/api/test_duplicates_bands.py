"""减负 in two bands (issue 27): a sure duplicate is merged without asking; a possible
one is answered 409 with the candidates and nothing opens until the caller chooses
``merge_into`` or ``force_new``; ``GET /findings/similar`` asks before submitting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from domain.policy import DEFAULT_POLICY
from tests.api.conftest import Stack

pytestmark = pytest.mark.integration


def _finding(title: str, source: str = "audit", **extra: object) -> dict[str, object]:
    return {
        "title": title,
        "source": source,
        "unit_id": "county-env",
        "cadre_id": "cadre-42",
        "deadline": (date.today() + timedelta(days=45)).isoformat(),
        **extra,
    }


def _streams(stack: Stack) -> int:
    with stack.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM streams")).scalar_one())


async def _open(stack: Stack, title: str) -> str:
    opened = await stack.client.post(
        "/api/v1/findings", json=_finding(title), headers=stack.auth("supervisor")
    )
    assert opened.status_code == 201, opened.text
    return str(opened.json()["case_id"])


async def test_a_reworded_duplicate_is_merged_automatically(
    stack: Stack, projector: Callable[[], None]
) -> None:
    case_id = await _open(stack, "青山镇医疗保障基金违反规定使用")
    projector()
    again = await stack.client.post(
        "/api/v1/findings",
        json=_finding("青山镇医保基金违规使用问题", source="petition"),
        headers=stack.auth("supervisor"),
    )
    assert again.status_code == 200, again.text
    merged = again.json()["merged"]
    assert merged["case_id"] == case_id
    assert Decimal(merged["similarity"]) >= DEFAULT_POLICY.duplicate_auto_threshold


async def test_the_same_words_about_another_town_open_their_own_case(
    stack: Stack, projector: Callable[[], None]
) -> None:
    await _open(stack, "白沙镇城乡低保资金违反规定发放")
    projector()
    other = await stack.client.post(
        "/api/v1/findings",
        json=_finding("城关镇城乡低保资金违反规定发放"),
        headers=stack.auth("supervisor"),
    )
    assert other.status_code == 201, other.text  # the old measure merged it (0.86)
    assert other.json()["merged"] is None


async def test_a_possible_duplicate_waits_for_the_callers_choice(
    stack: Stack, projector: Callable[[], None]
) -> None:
    case_id = await _open(stack, "社区食堂设施建成后闲置问题")
    projector()
    before = _streams(stack)
    body = _finding("社区食堂服务设施长期闲置未运营", source="inspection")
    asked = await stack.client.post("/api/v1/findings", json=body, headers=stack.auth("supervisor"))
    assert asked.status_code == 409, asked.text
    problem = asked.json()
    assert problem["code"] == "possible_duplicate"
    candidates = problem["candidates"]
    assert candidates[0]["case_id"] == case_id
    assert candidates[0]["band"] == "possible"
    score = Decimal(candidates[0]["score"])
    assert DEFAULT_POLICY.duplicate_possible_threshold <= score
    assert score < DEFAULT_POLICY.duplicate_auto_threshold
    assert _streams(stack) == before  # nothing opened

    joined = await stack.client.post(
        "/api/v1/findings", json={**body, "merge_into": case_id}, headers=stack.auth("supervisor")
    )
    assert joined.status_code == 200, joined.text
    assert joined.json()["merged"] == {
        "case_id": case_id,
        "finding_id": joined.json()["merged"]["finding_id"],
        "similarity": str(score),
    }
    assert joined.json()["events"][-1]["type"] == "DuplicateFindingMerged"

    forced = await stack.client.post(
        "/api/v1/findings",
        json={**body, "force_new": True, "source": "audit"},
        headers=stack.auth("supervisor"),
    )
    assert forced.status_code == 201, forced.text
    assert forced.json()["case_id"] != case_id


async def test_merge_into_must_name_an_open_case_of_the_unit(stack: Stack) -> None:
    refused = await stack.client.post(
        "/api/v1/findings",
        json=_finding("某问题", merge_into="no-such-case"),
        headers=stack.auth("supervisor"),
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "merge_target_not_open"


async def test_ask_before_submitting(stack: Stack, projector: Callable[[], None]) -> None:
    case_id = await _open(stack, "城西农贸市场环境脏乱差")
    projector()
    asked = await stack.client.get(
        "/api/v1/findings/similar",
        params={"unit_id": "county-env", "title": "城西菜市场环境卫生脏乱差问题突出"},
        headers=stack.auth("supervisor"),
    )
    assert asked.status_code == 200, asked.text
    first = asked.json()["candidates"][0]
    assert first["case_id"] == case_id
    assert first["band"] == "automatic"
    assert first["title"] == "城西农贸市场环境脏乱差"

    nothing = await stack.client.get(
        "/api/v1/findings/similar",
        params={"unit_id": "county-env", "title": "城北农贸市场环境脏乱差"},
        headers=stack.auth("supervisor"),
    )
    assert case_id not in {c["case_id"] for c in nothing.json()["candidates"]}


@pytest.mark.parametrize(
    ("who", "unit_id", "status"),
    [
        ("unit", "county-env", 403),
        ("inspector", "county-env", 403),
        ("supervisor", "other-env", 422),
    ],
)
async def test_only_a_supervisor_asks_and_only_within_the_subtree(
    stack: Stack, who: str, unit_id: str, status: int
) -> None:
    asked = await stack.client.get(
        "/api/v1/findings/similar",
        params={"unit_id": unit_id, "title": "河道垃圾"},
        headers=stack.auth(who),
    )
    assert asked.status_code == status, asked.text
