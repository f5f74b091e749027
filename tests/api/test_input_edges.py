"""Input at its edges: blank text, broken JSON. Each is refused with a clear answer and
nothing is written."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, func, select

from store.tables import events
from tests.api.conftest import Stack, open_case

pytestmark = pytest.mark.integration


def _count_events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


def _finding(title: str) -> dict[str, object]:
    return {
        "title": title,
        "source": "audit",
        "unit_id": "county-env",
        "cadre_id": "cadre-42",
        "deadline": (date.today() + timedelta(days=60)).isoformat(),
    }


@pytest.mark.parametrize("title", ["", "   ", "\u3000\u3000", "\t\n"])
async def test_a_title_of_only_blanks_is_refused_like_an_empty_one(
    stack: Stack, title: str
) -> None:
    before = _count_events(stack.engine)
    response = await stack.client.post(
        "/api/v1/findings", json=_finding(title), headers=stack.auth("supervisor")
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input"
    assert [e["field"] for e in body["errors"]] == ["body.title"]
    assert _count_events(stack.engine) == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("plan", {"plan": " \u3000 "}),
        ("progress", {"text": "\n\n"}),
        ("extension-request", {"reason": "  ", "proposed_deadline": "2099-01-05"}),
    ],
)
async def test_a_command_of_only_blanks_is_refused(
    stack: Stack, path: str, body: dict[str, object]
) -> None:
    case_id = await open_case(stack, "河道垃圾清理不及时", 60)
    before = _count_events(stack.engine)
    response = await stack.client.post(
        f"/api/v1/cases/{case_id}/{path}", json=body, headers=stack.auth("unit")
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_input"
    assert _count_events(stack.engine) == before


@pytest.mark.parametrize(
    ("raw", "line", "column", "reason_zh"),
    [
        ('{\n  "title": "x",\n  "source" "audit"\n}', 3, 12, "缺少冒号"),
        ('{"title": "x",}', 1, 15, "属性名应使用英文双引号"),
        ('{"title": }', 1, 11, "此处应为一个值"),
        ("{", 1, 2, "属性名应使用英文双引号"),
        ('{"title": "未结束}', 1, 11, "字符串没有结束的引号"),
    ],
)
async def test_broken_json_is_answered_with_its_line_and_column_in_chinese(
    stack: Stack, raw: str, line: int, column: int, reason_zh: str
) -> None:
    response = await stack.client.post(
        "/api/v1/findings",
        content=raw.encode(),
        headers={**stack.auth("supervisor"), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_json"
    assert body["message_zh"].startswith(f"请求体不是有效的 JSON：第 {line} 行第 {column} 列")
    assert reason_zh in body["message_zh"]
    assert body["errors"][0]["line"] == line
    assert body["errors"][0]["column"] == column
    english = await stack.client.post(
        "/api/v1/findings",
        content=raw.encode(),
        headers={
            **stack.auth("supervisor"),
            "Content-Type": "application/json",
            "Accept-Language": "en",
        },
    )
    assert english.json()["title"].startswith(f"the body is not valid JSON: near line {line}")


async def test_a_nul_byte_in_a_query_is_bad_input_not_a_server_error(stack: Stack) -> None:
    response = await stack.client.get(
        "/api/v1/cases", params={"category": "环保\x00"}, headers=stack.auth("supervisor")
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"
    assert "空字符" in response.json()["message_zh"]
