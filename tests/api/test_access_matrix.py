"""The access matrix: every role against every endpoint, in and out of scope.

Expected: "ok" (the request got past access control: any answer but 401/403/404),
403 (the role may not), 404 (out of scope: answered as if the case did not exist).
State rules may still refuse an allowed command (409/422); that is "ok" here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from tests.api.conftest import Stack

pytestmark = pytest.mark.integration

SOON = (date.today() + timedelta(days=20)).isoformat()
LATER = (date.today() + timedelta(days=120)).isoformat()
PDF = b"%PDF-1.4 matrix"

SUPERVISOR_COMMANDS: dict[str, dict[str, Any]] = {
    "extension-decision": {"decision": "deny", "reason": "理由不足"},
    "verification": {"decision": "reject", "reason": "佐证不足"},
    "reopen": {"reason": "问题反弹", "deadline": LATER},
    "withdraw": {"reason": "误报"},
    "reassign": {"unit_id": "county-env", "cadre_id": "cadre-42", "reason": "职责调整"},
    "assign": {"cadre_id": "cadre-42", "reason": "人事变动"},
    "deadline": {"deadline": LATER, "reason": "更正"},
    "target": {"target": "达标排放"},
    "accountability": {"action": "admonishment_talk", "reason": "整改不力", "by_decision": True},
    "tolerance": {"reason": "客观原因", "by_decision": True},
    "satisfaction": {"score_percent": 90},
}
UNIT_COMMANDS: dict[str, dict[str, Any]] = {
    "plan": {"plan": "整改方案"},
    "progress": {"text": "进展"},
    "milestone-report": {"milestone_id": "m1", "text": "阶段完成"},
    "extension-request": {"reason": "工程量大", "proposed_deadline": LATER},
    "closure-request": {"summary": "已整改"},
}

IN_SCOPE_SUPERVISORS = ("supervisor", "province_supervisor")
STRANGERS = ("other_unit", "other_supervisor", "other_inspector", "admin")


def _expect_command(who: str, allowed: tuple[str, ...]) -> str | int:
    if who in STRANGERS:
        return 404
    return "ok" if who in allowed else 403


ROLES = ("supervisor", "province_supervisor", "inspector", "unit", *STRANGERS)

CASES: list[tuple[str, str, str | int]] = []
for path in SUPERVISOR_COMMANDS:
    CASES += [(path, who, _expect_command(who, IN_SCOPE_SUPERVISORS)) for who in ROLES]
for path in UNIT_COMMANDS:
    CASES += [(path, who, _expect_command(who, ("unit",))) for who in ROLES]
for path in ("", "history"):
    CASES += [
        (path, who, 404 if who in STRANGERS else "ok") for who in ROLES
    ]  # reading: all in scope
# Upload: the role is checked first (it says nothing about the case), then the scope.
NO_UPLOAD = ("inspector", "other_inspector", "admin")
CASES += [
    ("evidence", who, 403 if who in NO_UPLOAD else (404 if who in STRANGERS else "ok"))
    for who in ROLES
]


async def _open_case(stack: Stack) -> str:
    body = {
        "title": "矩阵测试问题",
        "source": "routine",
        "unit_id": "county-env",
        "cadre_id": "cadre-42",
        "deadline": SOON,
    }
    response = await stack.client.post(
        "/api/v1/findings", json=body, headers=stack.auth("supervisor")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["case_id"])


def _check(status: int, expected: str | int, text: str) -> None:
    if expected == "ok":
        assert status not in (401, 403, 404), text
        assert status < 500, text
    else:
        assert status == expected, text


@pytest.mark.parametrize(("path", "who", "expected"), CASES)
async def test_case_endpoints(stack: Stack, path: str, who: str, expected: str | int) -> None:
    case_id = await _open_case(stack)
    base = f"/api/v1/cases/{case_id}"
    headers = stack.auth(who)
    if path in SUPERVISOR_COMMANDS or path in UNIT_COMMANDS:
        body = {**SUPERVISOR_COMMANDS, **UNIT_COMMANDS}[path]
        response = await stack.client.post(f"{base}/{path}", json=body, headers=headers)
    elif path == "evidence":
        response = await stack.client.post(
            f"{base}/evidence",
            params={"name": "a.pdf"},
            content=PDF,
            headers={**headers, "Content-Type": "application/pdf"},
        )
    else:
        response = await stack.client.get(f"{base}/{path}".rstrip("/"), headers=headers)
    _check(response.status_code, expected, response.text)
    unauthenticated = await stack.client.get(base)
    assert unauthenticated.status_code == 401


DIRECTORY: list[tuple[str, str, str, str | int]] = []
for who in ROLES:
    DIRECTORY.append(("POST", "/api/v1/units", who, "ok" if who == "admin" else 403))
    DIRECTORY.append(("POST", "/api/v1/cadres", who, "ok" if who == "admin" else 403))
    DIRECTORY.append(("GET", "/api/v1/cadres", who, "ok"))
    DIRECTORY.append(("GET", "/api/v1/units/prov/subtree", who, "ok"))
    DIRECTORY.append(("POST", "/api/v1/findings", who, "ok" if who.endswith("supervisor") else 403))
    archive = 404 if who in STRANGERS else "ok"
    DIRECTORY.append(("GET", "/api/v1/cadres/cadre-42/archive?year=2026", who, archive))


@pytest.mark.parametrize(("method", "url", "who", "expected"), DIRECTORY)
async def test_directory_findings_and_archive(
    stack: Stack, method: str, url: str, who: str, expected: str | int
) -> None:
    bodies: dict[str, Any] = {
        "/api/v1/units": [],
        "/api/v1/cadres": [],
        "/api/v1/findings": {
            "title": "矩阵",
            "source": "audit",
            "unit_id": "county-env",
            "cadre_id": "cadre-42",
            "deadline": SOON,
        },
    }
    if method == "POST":
        response = await stack.client.post(url, json=bodies[url], headers=stack.auth(who))
    else:
        response = await stack.client.get(url, headers=stack.auth(who))
    _check(response.status_code, expected, response.text)
    assert (await stack.client.request(method, url, json=bodies.get(url))).status_code == 401


# -- neighbours: a sibling, a child and a parent of the case's unit ---------------------
#
# prov ─┬─ city ─┬─ county-env ─── env-station
#       │        └─ county-water
# A unit user works on their own unit only (not its child's, not its parent's, not a
# sibling's cases); a supervisor or an inspector on their unit's subtree, so a
# supervisor of a sibling or of a child does not see the case, and one of a parent does.

NEIGHBOURS = (
    "sibling_unit",
    "child_unit",
    "parent_unit",
    "sibling_supervisor",
    "child_supervisor",
    "sibling_inspector",
    "own_supervisor",
)
SEES_COUNTY_ENV = {"own_supervisor"}
# A case at env-station, the child: who sees it among everyone.
SEES_STATION = {
    "child_unit",
    "child_supervisor",
    "own_supervisor",
    "supervisor",
    "province_supervisor",
    "inspector",
}
EVERYONE = (*ROLES, *NEIGHBOURS)


async def _open_at(stack: Stack, unit_id: str, cadre_id: str) -> str:
    body = {
        "title": f"邻近单位测试 {unit_id}",
        "source": "routine",
        "unit_id": unit_id,
        "cadre_id": cadre_id,
        "deadline": SOON,
        "force_new": True,
    }
    response = await stack.client.post(
        "/api/v1/findings", json=body, headers=stack.auth("supervisor")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["case_id"])


async def _everything_answers(
    stack: Stack,
    caught_up: Callable[[], None],
    who: str,
    case_id: str,
    cadre_id: str,
    sees: bool,
) -> None:
    """Reads, the list, a supervisor's and a unit's command, an upload and the cadre's
    archive, as ``who``: each in scope ("ok" or the role's 403) or 404."""
    role = who.split("_")[-1]
    headers = stack.auth(who)
    base = f"/api/v1/cases/{case_id}"
    hidden: str | int = 404
    for path in ("", "/history"):
        response = await stack.client.get(f"{base}{path}", headers=headers)
        _check(response.status_code, "ok" if sees else hidden, f"{who} GET {path} {response.text}")
    caught_up()  # the list reads the case-summary projection; newest first
    listed = await stack.client.get(
        "/api/v1/cases", params={"limit": 200, "sort": "-opened_at"}, headers=headers
    )
    assert listed.status_code == 200, listed.text
    ids = {item["case_id"] for item in listed.json()["items"]}
    assert (case_id in ids) is sees, f"{who} lists {case_id}: {case_id in ids}"
    target = await stack.client.post(
        f"{base}/target", json=SUPERVISOR_COMMANDS["target"], headers=headers
    )
    expected = ("ok" if role == "supervisor" else 403) if sees else hidden
    _check(target.status_code, expected, f"{who} target {target.text}")
    progress = await stack.client.post(
        f"{base}/progress", json=UNIT_COMMANDS["progress"], headers=headers
    )
    expected = ("ok" if role == "unit" else 403) if sees else hidden
    _check(progress.status_code, expected, f"{who} progress {progress.text}")
    upload = await stack.client.post(
        f"{base}/evidence",
        params={"name": "a.pdf"},
        content=PDF,
        headers={**headers, "Content-Type": "application/pdf"},
    )
    expected = 403 if role == "inspector" else ("ok" if sees else hidden)
    _check(upload.status_code, expected, f"{who} evidence {upload.text}")
    archive = await stack.client.get(
        f"/api/v1/cadres/{cadre_id}/archive", params={"year": date.today().year}, headers=headers
    )
    _check(archive.status_code, "ok" if sees else hidden, f"{who} archive {archive.text}")


@pytest.mark.parametrize("who", NEIGHBOURS)
async def test_a_case_is_seen_by_its_units_parents_not_by_a_sibling_or_a_child(
    stack: Stack, projector: Callable[[], None], who: str
) -> None:
    case_id = await _open_at(stack, "county-env", "cadre-42")
    await _everything_answers(stack, projector, who, case_id, "cadre-42", who in SEES_COUNTY_ENV)


@pytest.mark.parametrize("who", [w for w in EVERYONE if w != "admin"])
async def test_a_child_units_case_is_seen_by_its_supervisors_not_by_the_parent_unit(
    stack: Stack, projector: Callable[[], None], who: str
) -> None:
    case_id = await _open_at(stack, "env-station", "cadre-9")
    await _everything_answers(stack, projector, who, case_id, "cadre-9", who in SEES_STATION)
