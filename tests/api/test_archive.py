"""The cadre archive over the API: figures traced to events, within scope."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.api.conftest import Stack

pytestmark = pytest.mark.integration


async def test_a_new_case_counts_as_assigned_in_the_cadres_archive(
    stack: Stack, projector: Callable[[], None]
) -> None:
    body = {
        "title": "垃圾分类设施建设滞后",
        "source": "supervision",
        "unit_id": "county-env",
        "cadre_id": "cadre-42",
        "deadline": (date.today() + timedelta(days=40)).isoformat(),
    }
    headers = stack.auth("supervisor")
    year = date.today().year
    projector()
    before = await stack.client.get(
        "/api/v1/cadres/cadre-42/archive", params={"year": year}, headers=headers
    )
    assert before.status_code == 200
    created = (await stack.client.post("/api/v1/findings", json=body, headers=headers)).json()
    projector()
    after = (
        await stack.client.get(
            "/api/v1/cadres/cadre-42/archive", params={"year": year}, headers=headers
        )
    ).json()
    assigned = after["cases_assigned"]
    assert assigned["value"] == before.json()["cases_assigned"]["value"] + 1
    opened_id = created["events"][1]["event_id"]
    assert opened_id in assigned["event_ids"]
    assert after["cases_closed"]["value"] == 0
    # Without a year the archive is this year's (business dates are China time).
    this_year = await stack.client.get("/api/v1/cadres/cadre-42/archive", headers=headers)
    assert this_year.status_code == 200
    china_year = datetime.now(ZoneInfo("Asia/Shanghai")).year
    assert this_year.json()["period"]["year"] == china_year
    if china_year == year:
        assert this_year.json()["cases_assigned"] == assigned


@pytest.mark.parametrize(
    ("who", "cadre", "status"),
    [
        ("inspector", "cadre-42", 200),
        ("unit", "cadre-42", 200),
        ("other_inspector", "cadre-42", 404),
        ("unit", "cadre-7", 404),
        ("supervisor", "no-such-cadre", 404),
    ],
)
async def test_an_archive_is_visible_only_within_scope(
    stack: Stack, who: str, cadre: str, status: int
) -> None:
    response = await stack.client.get(
        f"/api/v1/cadres/{cadre}/archive", params={"year": 2026}, headers=stack.auth(who)
    )
    assert response.status_code == status


async def test_a_period_out_of_range_is_422(stack: Stack) -> None:
    response = await stack.client.get(
        "/api/v1/cadres/cadre-42/archive",
        params={"year": 2026, "quarter": 5},
        headers=stack.auth("supervisor"),
    )
    assert response.status_code == 422
    assert "query.quarter" in [e["field"] for e in response.json()["errors"]]
