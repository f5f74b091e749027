"""GET /cases: the case list from the projection, filtered, sorted, paged, within scope."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from tests.api.conftest import Stack, open_case

pytestmark = pytest.mark.integration


async def _list(stack: Stack, who: str = "supervisor", **params: Any) -> dict[str, Any]:
    response = await stack.client.get("/api/v1/cases", params=params, headers=stack.auth(who))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_list_pages_through_every_case_in_deadline_order(
    stack: Stack, projector: Callable[[], None]
) -> None:
    opened = [
        await open_case(stack, f"分页测试问题{i}", days=30 + i, category="paging") for i in range(5)
    ]
    projector()
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"category": "paging", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = await _list(stack, **params)
        items = page["items"]
        assert isinstance(items, list)
        seen += [item["case_id"] for item in items]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == opened  # deadlines ascend with i


async def test_filters_narrow_the_list(stack: Stack, projector: Callable[[], None]) -> None:
    immediate = await open_case(
        stack, "立行立改问题", days=10, kind="immediate", category="filters"
    )
    await open_case(stack, "限期整改问题", days=50, category="filters")
    projector()
    page = await _list(stack, category="filters", kind="immediate")
    assert [item["case_id"] for item in page["items"]] == [immediate]
    page = await _list(stack, category="filters", status="closed")
    assert page["items"] == []
    soon = (date.today() + timedelta(days=20)).isoformat()
    page = await _list(stack, category="filters", deadline_to=soon)
    assert [item["case_id"] for item in page["items"]] == [immediate]


@pytest.mark.parametrize(
    ("who", "visible"),
    [
        ("supervisor", True),
        ("province_supervisor", True),
        ("inspector", True),
        ("unit", True),
        ("other_supervisor", False),
        ("other_inspector", False),
        ("other_unit", False),
    ],
)
async def test_the_list_holds_only_cases_in_scope(
    stack: Stack, projector: Callable[[], None], who: str, visible: bool
) -> None:
    case_id = await open_case(stack, f"范围测试问题 {who}", days=40, category=f"scope-{who}")
    projector()
    page = await _list(stack, who=who, category=f"scope-{who}")
    assert [item["case_id"] for item in page["items"]] == ([case_id] if visible else [])


async def test_bad_list_parameters_are_422(stack: Stack) -> None:
    headers = stack.auth("supervisor")
    for params, field in (
        ({"cursor": "garbage"}, "query.cursor"),
        ({"sort": "title"}, "query.sort"),
        ({"limit": 0}, "query.limit"),
        ({"unit": "other-env"}, "query.unit"),
        ({"light": "purple"}, "query.light"),
    ):
        response = await stack.client.get("/api/v1/cases", params=params, headers=headers)
        assert response.status_code == 422, (params, response.text)
        fields = [e["field"] for e in response.json()["errors"]]
        assert any(f == field or f.startswith(field + ".") for f in fields), fields
    admin = await stack.client.get("/api/v1/cases", headers=stack.auth("admin"))
    assert admin.status_code == 403


async def test_projection_lag_is_reported(stack: Stack, projector: Callable[[], None]) -> None:
    projector()
    response = await stack.client.get("/api/v1/projections", headers=stack.auth("inspector"))
    assert response.status_code == 200
    lags = {lag["name"]: lag for lag in response.json()}
    assert {"case_summary", "unit_board", "cadre_archive"} <= set(lags)
    assert all(lag["events_behind"] == 0 for lag in lags.values())
    assert all(lag["checkpoint_position"] <= lag["head_position"] for lag in lags.values())
