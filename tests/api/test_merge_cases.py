"""合并案件: a supervisor merges an open case into another open case of the same unit,
after the fact (POST /cases/{id}/merge-into)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.api.conftest import Stack

pytestmark = pytest.mark.integration


async def _open(
    stack: Stack, title: str, unit_id: str = "county-env", cadre: str = "cadre-42"
) -> str:
    body = {
        "title": title,
        "source": "audit",
        "unit_id": unit_id,
        "cadre_id": cadre,
        "deadline": (date.today() + timedelta(days=45)).isoformat(),
        "force_new": True,
    }
    opened = await stack.client.post(
        "/api/v1/findings", json=body, headers=stack.auth("supervisor")
    )
    assert opened.status_code == 201, opened.text
    return str(opened.json()["case_id"])


async def _merge(stack: Stack, case_id: str, into: str, who: str = "supervisor") -> Any:
    return await stack.client.post(
        f"/api/v1/cases/{case_id}/merge-into",
        json={"into_case_id": into, "reason": "同一问题经巡察、审计两个渠道重复立项"},
        headers=stack.auth(who),
    )


async def test_a_merged_case_ends_merged_and_the_surviving_case_lists_it(stack: Stack) -> None:
    absorbed = await _open(stack, "城东河道垃圾长期未清理")
    surviving = await _open(stack, "城东河流沿岸垃圾堆积")
    merged = await _merge(stack, absorbed, surviving)
    assert merged.status_code == 200, merged.text
    assert merged.json()["status"] == "merged"
    assert merged.json()["merged_into"] == surviving

    kept = (
        await stack.client.get(f"/api/v1/cases/{surviving}", headers=stack.auth("supervisor"))
    ).json()
    assert kept["state"]["status"] == "open"
    assert kept["state"]["absorbed_case_ids"] == [absorbed]
    assert absorbed in {f["finding_id"] for f in kept["state"]["findings"]}
    assert kept["events"][-1]["type"] == "CaseAbsorbed"

    gone = (
        await stack.client.get(f"/api/v1/cases/{absorbed}", headers=stack.auth("supervisor"))
    ).json()
    assert gone["events"][-1]["type"] == "CaseMergedInto"
    assert gone["light"] == "grey"

    again = await _merge(stack, absorbed, surviving)  # the absorbed case is no longer open
    assert again.status_code == 409, again.text
    withdraw = await stack.client.post(
        f"/api/v1/cases/{absorbed}/withdraw",
        json={"reason": "误报"},
        headers=stack.auth("supervisor"),
    )
    assert withdraw.status_code == 409, withdraw.text


async def test_only_cases_of_the_same_unit_merge(stack: Stack) -> None:
    here = await _open(stack, "城南污水管网破损")
    child = await _open(stack, "监测站数据造假", unit_id="env-station", cadre="cadre-9")
    refused = await _merge(stack, here, child)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "merge_other_unit"
    itself = await _merge(stack, here, here)
    assert itself.status_code == 422
    unknown = await _merge(stack, here, "no-such-case")
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "merge_target_not_found"


async def test_a_unit_cannot_merge_cases(stack: Stack) -> None:
    one = await _open(stack, "城北扬尘污染")
    two = await _open(stack, "城北工地扬尘")
    refused = await _merge(stack, one, two, who="unit")
    assert refused.status_code == 403, refused.text
