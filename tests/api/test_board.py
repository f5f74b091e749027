"""GET /board: the unit board of the caller's subtree, from the projection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.api.conftest import Stack, open_case

pytestmark = pytest.mark.integration


async def _board(stack: Stack, who: str, **params: Any) -> dict[str, Any]:
    response = await stack.client.get("/api/v1/board", params=params, headers=stack.auth(who))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    figures = dict.fromkeys(
        ("cases", "active", "green", "yellow", "red", "grey", "closed", "closed_on_time"), 0
    )
    figures |= {f"red_level_{n}": 0 for n in range(5)}
    # One case far from its deadline, one two days from it (at most 5 working days: yellow).
    return figures | {"cases": 2, "active": 2, "green": 1, "yellow": 1, "on_time_rate": None}


async def test_the_board_shows_the_units_of_the_callers_subtree_and_their_total(
    stack: Stack, projector: Callable[[], None], expected: dict[str, Any]
) -> None:
    await open_case(stack, "看板测试问题：远期", days=90)
    await open_case(stack, "看板测试问题：临期", days=2)
    projector()
    row = expected | {"unit_id": "county-env", "name": "某县生态环境局"}
    for who, root in (("supervisor", "city"), ("province_supervisor", "prov"), ("unit", None)):
        board = await _board(stack, who)
        assert board["unit_id"] == (root or "county-env"), who
        assert board["units"] == [row], who
        assert board["total"] == expected, who
    # A subtree inside the caller's: the same unit, asked for by name.
    board = await _board(stack, "inspector", unit="county-env")
    assert board["units"] == [row]


@pytest.mark.parametrize("who", ["other_supervisor", "other_inspector", "other_unit"])
async def test_a_board_outside_the_cases_subtree_is_empty(
    stack: Stack, projector: Callable[[], None], who: str, expected: dict[str, Any]
) -> None:
    projector()
    board = await _board(stack, who)
    assert board["units"] == []
    assert board["total"] == expected | dict.fromkeys(("cases", "active", "green", "yellow"), 0)


@pytest.mark.parametrize(
    ("who", "unit"),
    [
        ("supervisor", "other-env"),  # outside the subtree
        ("supervisor", "no-such-unit"),
        ("unit", "city"),  # a unit user sees their own unit only
    ],
)
async def test_a_unit_outside_the_callers_scope_is_422(stack: Stack, who: str, unit: str) -> None:
    response = await stack.client.get(
        "/api/v1/board", params={"unit": unit}, headers=stack.auth(who)
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "unit_not_found"
    assert [e["field"] for e in problem["errors"]] == ["query.unit"]


async def test_bad_board_parameters_and_roles_are_refused(stack: Stack) -> None:
    bad = await stack.client.get(
        "/api/v1/board", params={"unit": "不合法 id"}, headers=stack.auth("supervisor")
    )
    assert bad.status_code == 422
    admin = await stack.client.get("/api/v1/board", headers=stack.auth("admin"))
    assert admin.status_code == 403
    anonymous = await stack.client.get("/api/v1/board")
    assert anonymous.status_code == 401
