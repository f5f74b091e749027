"""Long-term cases (长期整改) through the API: opened with milestones, milestones changed by a
supervisor, a milestone reported by the unit; bad milestones refused naming the field."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.api.conftest import Stack

pytestmark = pytest.mark.integration


def _day(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def _finding(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "finding_id": f"lt-{uuid.uuid4().hex[:12]}",
        "title": "城区雨污分流管网改造滞后",
        "source": "inspection",
        "unit_id": "county-env",
        "cadre_id": "cadre-42",
        "kind": "long_term",
        "deadline": _day(300),
        "target": "城区雨污分流全覆盖",
        "force_new": True,
        "milestones": [
            {"milestone_id": "survey", "title": "完成管网排查", "due": _day(60)},
            {"title": "一期管网改造完成", "due": _day(150)},
            {"title": "全部完成并验收", "due": _day(280)},
        ],
    }
    body.update(changes)
    return body


async def _post_finding(stack: Stack, body: dict[str, Any]) -> httpx.Response:
    return await stack.client.post("/api/v1/findings", json=body, headers=stack.auth("supervisor"))


async def _command(
    stack: Stack, case_id: str, path: str, body: dict[str, Any], who: str
) -> httpx.Response:
    return await stack.client.post(
        f"/api/v1/cases/{case_id}/{path}", json=body, headers=stack.auth(who)
    )


def _stream_length(stack: Stack, case_id: str) -> int:
    with stack.engine.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM events WHERE stream_id = :s"), {"s": f"case-{case_id}"}
        ).scalar_one()
    return int(count)


async def _long_term_case(stack: Stack) -> tuple[str, list[dict[str, Any]]]:
    response = await _post_finding(stack, _finding())
    assert response.status_code == 201, response.text
    body = response.json()
    return str(body["case_id"]), body["state"]["milestones"]


async def test_a_long_term_case_opens_with_its_milestones(stack: Stack) -> None:
    response = await _post_finding(stack, _finding())
    assert response.status_code == 201, response.text
    case = response.json()
    assert case["state"]["kind"] == "long_term"
    assert [(m["milestone_id"], m["due"], m["reported"]) for m in case["state"]["milestones"]] == [
        ("survey", _day(60), False),
        ("m1", _day(150), False),  # ids given when absent: the first free m<n>
        ("m2", _day(280), False),
    ]
    assert case["light"] == "green"
    assert case["next_timer"]["action"] == "milestone_due"
    assert case["next_timer"]["milestone_id"] == "survey"
    [opened] = [e for e in case["events"] if e["type"] == "CaseOpened"]
    assert [m["title"] for m in opened["data"]["milestones"]] == [
        "完成管网排查",
        "一期管网改造完成",
        "全部完成并验收",
    ]


def _milestones(*items: tuple[str | None, int]) -> list[dict[str, Any]]:
    return [
        {"title": f"阶段{i}", "due": _day(days)} | ({"milestone_id": mid} if mid else {})
        for i, (mid, days) in enumerate(items)
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"milestones": _milestones(("a", 30), ("a", 60))}, "body.milestones.1.milestone_id"),
        ({"milestones": _milestones((None, 60), (None, 30))}, "body.milestones.1.due"),
        ({"milestones": _milestones((None, 30), (None, 30))}, "body.milestones.1.due"),
        ({"milestones": _milestones((None, 30), (None, 60), (None, 301))}, "body.milestones.2.due"),
        ({"milestones": []}, "body.milestones"),
        ({"kind": "time_limited", "deadline": _day(60)}, "body.milestones"),
        ({"kind": "immediate", "deadline": _day(10)}, "body.milestones"),
        ({"milestones": [{"title": "阶段", "due": "2027-02-30"}]}, "body.milestones.0.due"),
        ({"milestones": [{"title": " ", "due": _day(30)}]}, "body.milestones.0.title"),
        ({"milestones": [{"due": _day(30)}]}, "body.milestones.0.title"),
        (
            {"milestones": [{"milestone_id": "a b", "title": "t", "due": _day(30)}]},
            "body.milestones.0.milestone_id",
        ),
    ],
)
async def test_bad_milestones_are_refused_naming_the_field_and_nothing_is_written(
    stack: Stack, changes: dict[str, Any], field: str
) -> None:
    body = _finding(**changes)
    response = await _post_finding(stack, body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "invalid_input"
    assert field in [e["field"] for e in problem["errors"]], problem
    assert field in problem["message_zh"]
    assert _stream_length(stack, body["finding_id"]) == 0


async def test_a_milestone_in_the_past_is_refused_by_the_domain_and_nothing_is_written(
    stack: Stack,
) -> None:
    body = _finding(milestones=_milestones((None, -1), (None, 60)))
    response = await _post_finding(stack, body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "milestone_out_of_range"
    assert problem["message_en"].startswith("milestones.0.due: ")
    assert problem["message_zh"].startswith("milestones.0.due：")
    assert _stream_length(stack, body["finding_id"]) == 0


async def test_a_supervisor_changes_the_milestones_with_a_reason(stack: Stack) -> None:
    case_id, milestones = await _long_term_case(stack)
    new = [{k: m[k] for k in ("milestone_id", "title", "due")} for m in milestones]  # as opened
    new[1]["due"] = _day(170)
    new.append({"milestone_id": "m3", "title": "长效机制建立", "due": _day(290)})
    body = {"milestones": new, "reason": "一期工程招标延后"}

    for who in ("unit", "inspector"):
        refused = await _command(stack, case_id, "milestones", body, who)
        assert refused.status_code == 403, refused.text
    before = _stream_length(stack, case_id)

    changed = await _command(stack, case_id, "milestones", body, "supervisor")
    assert changed.status_code == 200, changed.text
    assert [(m["milestone_id"], m["due"]) for m in changed.json()["milestones"]] == [
        ("survey", _day(60)),
        ("m1", _day(170)),
        ("m2", _day(280)),
        ("m3", _day(290)),
    ]
    assert _stream_length(stack, case_id) == before + 1

    case = (await stack.client.get(f"/api/v1/cases/{case_id}", headers=stack.auth("unit"))).json()
    [event] = [e for e in case["events"] if e["type"] == "MilestonesSet"]
    assert event["data"]["reason"] == "一期工程招标延后"
    assert len(event["data"]["previous_milestones"]) == 3

    after_deadline = {"milestones": [*new[:3], {**new[3], "due": _day(301)}], "reason": "r"}
    refused = await _command(stack, case_id, "milestones", after_deadline, "supervisor")
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "milestone_out_of_range"
    assert refused.json()["message_en"].startswith("milestones.3.due: ")
    assert _stream_length(stack, case_id) == before + 1


async def test_the_unit_reports_a_milestone_which_then_cannot_be_moved(stack: Stack) -> None:
    case_id, milestones = await _long_term_case(stack)
    reported = await _command(
        stack,
        case_id,
        "milestone-report",
        {"milestone_id": "survey", "text": "管网排查完成，形成问题清单"},
        "unit",
    )
    assert reported.status_code == 200, reported.text
    assert [m["reported"] for m in reported.json()["milestones"]] == [True, False, False]

    moved = [{k: m[k] for k in ("milestone_id", "title", "due")} for m in milestones]
    moved[0]["due"] = _day(50)
    refused = await _command(
        stack, case_id, "milestones", {"milestones": moved, "reason": "r"}, "supervisor"
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "reported_milestone_changed"

    again = await _command(
        stack, case_id, "milestone-report", {"milestone_id": "survey", "text": "再报"}, "unit"
    )
    assert again.status_code == 409, again.text
    assert again.json()["code"] == "milestone_already_reported"
