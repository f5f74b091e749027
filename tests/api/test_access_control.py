"""Who may do what: bearer tokens, roles, and scope (outside your scope is 404, not 403)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine

from store.tokens import Tokens
from tests.api.conftest import Stack

pytestmark = pytest.mark.integration

FINDING = {
    "title": "河道违规采砂整治不到位",
    "source": "inspection",
    "unit_id": "county-env",
    "cadre_id": "cadre-42",
    "deadline": (date.today() + timedelta(days=30)).isoformat(),
}


async def _open_case(stack: Stack) -> str:
    response = await stack.client.post(
        "/api/v1/findings", json=FINDING, headers=stack.auth("supervisor")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["case_id"])


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer zg_nope_nope", "Basic dXNlcjpwYXNz", "zg_token_without_scheme"],
)
async def test_without_a_valid_token_the_answer_is_401(
    stack: Stack, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await stack.client.get("/api/v1/cases/anything", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["code"] == "unauthenticated"


async def test_a_revoked_token_stops_working_at_once(stack: Stack, engine: Engine) -> None:
    issued = Tokens(engine).create(role="supervisor", unit_id="city", name="temp")
    headers = {"Authorization": f"Bearer {issued.secret}"}
    assert (await stack.client.get("/api/v1/cadres", headers=headers)).status_code == 200
    assert Tokens(engine).revoke(issued.record.token_id)
    assert (await stack.client.get("/api/v1/cadres", headers=headers)).status_code == 401


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("supervisor", 200),
        ("province_supervisor", 200),  # the city is inside the province's subtree
        ("inspector", 200),
        ("unit", 200),
        ("other_supervisor", 404),
        ("other_inspector", 404),
        ("other_unit", 404),
        ("admin", 404),
    ],
)
async def test_a_case_is_visible_only_within_scope(stack: Stack, who: str, status: int) -> None:
    case_id = await _open_case(stack)
    response = await stack.client.get(f"/api/v1/cases/{case_id}", headers=stack.auth(who))
    assert response.status_code == status
    if status == 404:  # exactly the answer for a case that does not exist
        assert response.json()["code"] == "case_not_found"


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("supervisor", 201),
        ("unit", 403),
        ("inspector", 403),
        ("admin", 403),
    ],
)
async def test_only_a_supervisor_records_findings(stack: Stack, who: str, status: int) -> None:
    response = await stack.client.post("/api/v1/findings", json=FINDING, headers=stack.auth(who))
    assert response.status_code == status
    if status == 403:
        assert response.json()["code"] == "forbidden_role"


async def test_the_actor_and_role_of_the_token_go_into_the_event_metadata(
    stack: Stack,
) -> None:
    case_id = await _open_case(stack)
    case = (
        await stack.client.get(f"/api/v1/cases/{case_id}", headers=stack.auth("supervisor"))
    ).json()
    assert {(e["actor"], e["role"]) for e in case["events"]} == {("supervisor-user", "supervisor")}


async def test_only_an_admin_creates_units_and_cadres_all_or_nothing(stack: Stack) -> None:
    units = [
        {"unit_id": "new-county", "name": "新县", "parent_id": "city"},
        {"unit_id": "new-dept", "name": "新县水利局", "parent_id": "new-county"},
    ]
    denied = await stack.client.post("/api/v1/units", json=units, headers=stack.auth("supervisor"))
    assert denied.status_code == 403
    created = await stack.client.post("/api/v1/units", json=units, headers=stack.auth("admin"))
    assert created.status_code == 201
    assert [u["path"] for u in created.json()] == [
        "/prov/city/new-county/",
        "/prov/city/new-county/new-dept/",
    ]

    half_bad = [
        {"unit_id": "fine-unit", "name": "好单位", "parent_id": "city"},
        {"unit_id": "orphan", "name": "无上级", "parent_id": "missing"},
    ]
    refused = await stack.client.post("/api/v1/units", json=half_bad, headers=stack.auth("admin"))
    assert refused.status_code == 422
    assert refused.json()["code"] == "parent_not_found"
    subtree = await stack.client.get("/api/v1/units/city/subtree", headers=stack.auth("supervisor"))
    assert "fine-unit" not in [u["unit_id"] for u in subtree.json()]  # nothing half-written

    again = await stack.client.post("/api/v1/units", json=units[:1], headers=stack.auth("admin"))
    assert again.status_code == 409
    assert again.json()["code"] == "unit_exists"

    cadre = [{"cadre_id": "cadre-new", "name": "赵某", "unit_id": "new-dept", "post": "局长"}]
    made = await stack.client.post("/api/v1/cadres", json=cadre, headers=stack.auth("admin"))
    assert made.status_code == 201
    listed = await stack.client.get(
        "/api/v1/cadres", params={"unit_id": "new-dept"}, headers=stack.auth("unit")
    )
    assert listed.json() == cadre


async def test_an_inspector_reads_the_history_with_its_verified_chain(stack: Stack) -> None:
    case_id = await _open_case(stack)
    response = await stack.client.get(
        f"/api/v1/cases/{case_id}/history", headers=stack.auth("inspector")
    )
    assert response.status_code == 200
    history = response.json()
    assert [e["version"] for e in history["events"]] == [1, 2]
    assert history["events"][0]["previous_hash"] == "00" * 32
    assert history["events"][1]["previous_hash"] == history["events"][0]["hash"]
    assert history["verification"]["ok"] is True
    assert history["verification"]["events_checked"] == 2
    assert history["verification"]["problems"] == []
    outside = await stack.client.get(
        f"/api/v1/cases/{case_id}/history", headers=stack.auth("other_inspector")
    )
    assert outside.status_code == 404


async def test_a_tampered_event_shows_in_the_history_verification(
    stack: Stack, engine: Engine
) -> None:
    from sqlalchemy import text

    case_id = await _open_case(stack)
    with engine.begin() as conn:  # what a superuser could do behind the system's back
        conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_no_update_delete"))
        conn.execute(
            text(
                "UPDATE events SET data = jsonb_set(data, '{title}', '\"已整改\"') "
                "WHERE stream_id = :s AND version = 1"
            ),
            {"s": f"case-{case_id}"},
        )
        conn.execute(text("ALTER TABLE events ENABLE TRIGGER events_no_update_delete"))
    response = await stack.client.get(
        f"/api/v1/cases/{case_id}/history", headers=stack.auth("inspector")
    )
    verification = response.json()["verification"]
    assert verification["ok"] is False
    assert verification["problems"][0]["code"] == "hash"
    assert verification["problems"][0]["version"] == 1


async def test_a_repeated_directory_post_with_its_key_returns_the_first_answer(
    stack: Stack,
) -> None:
    headers = {**stack.auth("admin"), "Idempotency-Key": "units-batch-7"}
    units = [{"unit_id": "idem-unit", "name": "幂等单位", "parent_id": "city"}]
    first = await stack.client.post("/api/v1/units", json=units, headers=headers)
    again = await stack.client.post("/api/v1/units", json=units, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    other = await stack.client.post(
        "/api/v1/units", json=[{**units[0], "name": "别的名字"}], headers=headers
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    without_key = await stack.client.post("/api/v1/units", json=units, headers=stack.auth("admin"))
    assert without_key.status_code == 409  # no key: a second create is a conflict
