# mypy: disable-error-code="arg-type, func-returns-value, unused-ignore"
# (FakeDirectory stands in for store.directory.Directory: the same three methods.)
"""The scope rules of application/access.py, against a fake unit tree (no database).

The tree:  city ─┬─ district-a ── street-a1
                 └─ district-b
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from application import access
from application.access import (
    ensure_role,
    ensure_sees_cases,
    in_scope,
    scope_root,
    unknown_unit,
    visible_case,
    with_clock,
)
from application.errors import Refusal
from application.models import CaseOut
from application.temporal_gateway import TemporalUnavailable
from domain.vocabulary import Actor, Role, TrafficLight
from store.directory import Unit
from tests.unit.domain.builders import opened
from workflows.case_workflow import RectificationCaseWorkflow
from workflows.models import NextTimer

_PARENT = {"city": None, "district-a": "city", "street-a1": "district-a", "district-b": "city"}


class FakeDirectory:
    """is_within / unit / subtree over ``_PARENT``; records every is_within call."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, Any]] = []

    def _path(self, unit_id: str) -> str:
        parent = _PARENT[unit_id]
        return f"{self._path(parent) if parent else ''}/{unit_id}"

    def is_within(self, unit_id: str, ancestor_id: str) -> bool:
        self.calls.append((unit_id, ancestor_id))
        if unit_id not in _PARENT or ancestor_id not in _PARENT:
            return False
        return self._path(unit_id).startswith(self._path(ancestor_id))

    def unit(self, unit_id: str) -> Unit | None:
        if unit_id not in _PARENT:
            return None
        return Unit(unit_id, unit_id.upper(), _PARENT[unit_id], self._path(unit_id))

    def subtree(self, unit_id: str) -> list[Unit]:
        return [u for u in map(self.unit, _PARENT) if u and self.is_within(u.unit_id, unit_id)]


class EverythingWithin(FakeDirectory):
    """A tree that says yes to every is_within: only the role rules can say no."""

    def is_within(self, unit_id: str, ancestor_id: str) -> bool:
        self.calls.append((unit_id, ancestor_id))
        return True


def actor(role: Role, unit_id: str | None = None) -> Actor:
    return Actor(user_id="u-1", role=role, unit_id=unit_id)


SUPERVISOR = actor(Role.SUPERVISOR, "district-a")
INSPECTOR = actor(Role.INSPECTOR, "district-a")
UNIT_USER = actor(Role.UNIT, "district-a")
ADMIN = actor(Role.ADMIN, "city")
SYSTEM = actor(Role.SYSTEM, "city")


def assert_unknown_unit(raised: pytest.ExceptionInfo[Refusal], unit: str) -> None:
    error = raised.value
    assert error.status == 422
    assert error.code == "unit_not_found"
    assert error.message_zh == f"单位 {unit} 不存在或不在您的管辖范围内"
    assert error.message_en == f"unit {unit} does not exist within your scope"
    assert error.extra == {"errors": [{"field": "query.unit", "message": "unknown unit"}]}
    assert error.retry_after is None
    assert error.replayed is False


# --- in_scope -------------------------------------------------------------------------


@pytest.mark.parametrize("role_actor", [SUPERVISOR, INSPECTOR])
def test_supervisor_and_inspector_see_their_subtree(role_actor: Actor) -> None:
    directory = FakeDirectory()
    assert in_scope(directory, role_actor, "district-a") is True
    assert in_scope(directory, role_actor, "street-a1") is True
    assert in_scope(directory, role_actor, "district-b") is False  # a sibling
    assert in_scope(directory, role_actor, "city") is False  # the parent
    assert directory.calls == [
        ("district-a", "district-a"),
        ("street-a1", "district-a"),
        ("district-b", "district-a"),
        ("city", "district-a"),
    ]


def test_unit_user_sees_only_its_own_unit_not_its_children() -> None:
    directory = EverythingWithin()
    assert in_scope(directory, UNIT_USER, "district-a") is True
    assert in_scope(directory, UNIT_USER, "street-a1") is False
    assert in_scope(directory, UNIT_USER, "city") is False
    assert directory.calls == []


@pytest.mark.parametrize("role_actor", [ADMIN, SYSTEM])
def test_admin_and_system_see_no_unit_even_with_a_unit(role_actor: Actor) -> None:
    directory = EverythingWithin()
    assert in_scope(directory, role_actor, "city") is False
    assert in_scope(directory, role_actor, "district-a") is False
    assert directory.calls == []


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.INSPECTOR, Role.UNIT, Role.ADMIN])
def test_no_unit_means_no_scope(role: Role) -> None:
    directory = EverythingWithin()
    assert in_scope(directory, actor(role), "city") is False
    assert directory.calls == []


# --- ensure_role / ensure_sees_cases --------------------------------------------------


def test_ensure_role_lets_a_listed_role_pass() -> None:
    assert ensure_role(SUPERVISOR, Role.SUPERVISOR) is None
    assert ensure_role(UNIT_USER, Role.SUPERVISOR, Role.UNIT) is None


def test_ensure_role_refuses_another_role_with_403() -> None:
    with pytest.raises(Refusal) as raised:
        ensure_role(INSPECTOR, Role.SUPERVISOR, Role.UNIT)
    error = raised.value
    assert error.status == 403
    assert error.code == "forbidden_role"
    assert error.message_zh == "此操作仅限：supervisor、unit"
    assert error.message_en == "only supervisor, unit may do this"
    assert error.extra == {}


def test_ensure_role_with_no_roles_refuses_everyone() -> None:
    with pytest.raises(Refusal) as raised:
        ensure_role(SUPERVISOR)
    assert raised.value.message_en == "only  may do this"


@pytest.mark.parametrize("role_actor", [SUPERVISOR, INSPECTOR, UNIT_USER])
def test_case_roles_see_cases(role_actor: Actor) -> None:
    assert ensure_sees_cases(role_actor) is None


@pytest.mark.parametrize("role_actor", [ADMIN, SYSTEM])
def test_admin_and_system_see_no_cases(role_actor: Actor) -> None:
    with pytest.raises(Refusal) as raised:
        ensure_sees_cases(role_actor)
    error = raised.value
    assert error.status == 403
    assert error.code == "forbidden_role"
    assert error.message_zh == "管理员不查看案件"
    assert error.message_en == "admins see no cases"
    assert error.extra == {}


def test_unknown_unit_names_the_unit() -> None:
    with pytest.raises(Refusal) as raised:
        raise unknown_unit("district-x")
    assert_unknown_unit(raised, "district-x")


# --- scope_root -----------------------------------------------------------------------


@pytest.mark.parametrize("role_actor", [SUPERVISOR, INSPECTOR, UNIT_USER])
def test_scope_root_defaults_to_the_callers_unit(role_actor: Actor) -> None:
    directory = FakeDirectory()
    assert scope_root(directory, role_actor, None) == directory.unit("district-a")
    assert directory.calls == []  # no unit asked for: nothing to check


@pytest.mark.parametrize("role_actor", [SUPERVISOR, INSPECTOR])
def test_scope_root_of_a_unit_in_the_subtree(role_actor: Actor) -> None:
    directory = FakeDirectory()
    assert scope_root(directory, role_actor, "street-a1") == directory.unit("street-a1")
    assert scope_root(directory, role_actor, "district-a") == directory.unit("district-a")
    assert directory.calls == [("street-a1", "district-a"), ("district-a", "district-a")]


@pytest.mark.parametrize("role_actor", [SUPERVISOR, INSPECTOR])
@pytest.mark.parametrize("unit", ["district-b", "city", "nowhere"])
def test_scope_root_outside_the_subtree_is_unknown(role_actor: Actor, unit: str) -> None:
    with pytest.raises(Refusal) as raised:
        scope_root(FakeDirectory(), role_actor, unit)
    assert_unknown_unit(raised, unit)


def test_scope_root_of_a_unit_user_is_its_own_unit_only() -> None:
    directory = EverythingWithin()
    assert scope_root(directory, UNIT_USER, "district-a") == directory.unit("district-a")
    for unit in ("street-a1", "city"):
        with pytest.raises(Refusal) as raised:
            scope_root(directory, UNIT_USER, unit)
        assert_unknown_unit(raised, unit)


def test_scope_root_of_an_admin_with_a_unit_asked_for_is_unknown() -> None:
    with pytest.raises(Refusal) as raised:
        scope_root(EverythingWithin(), ADMIN, "district-a")
    assert_unknown_unit(raised, "district-a")


def test_scope_root_without_any_unit_is_unknown_with_an_empty_name() -> None:
    with pytest.raises(Refusal) as raised:
        scope_root(EverythingWithin(), actor(Role.SUPERVISOR), None)
    assert_unknown_unit(raised, "")


def test_scope_root_of_a_unit_missing_from_the_directory_is_unknown() -> None:
    # In scope (the tree says yes) but gone from the directory: named by the root asked for.
    with pytest.raises(Refusal) as raised:
        scope_root(EverythingWithin(), actor(Role.SUPERVISOR, "district-a"), "gone")
    assert_unknown_unit(raised, "gone")
    # The caller's own unit, gone: named by the caller's unit.
    with pytest.raises(Refusal) as raised:
        scope_root(EverythingWithin(), actor(Role.SUPERVISOR, "gone-too"), None)
    assert_unknown_unit(raised, "gone-too")


# --- visible_case ---------------------------------------------------------------------


def _case(unit_id: str = "street-a1") -> CaseOut:
    state = opened(unit_id=unit_id).case
    return CaseOut(case_id="c-1", workflow_id="case-c-1", state=state, events=[])


async def test_visible_case_in_scope_is_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    case = _case()
    seen: list[tuple[Any, str]] = []

    def load(store: Any, case_id: str) -> CaseOut:
        seen.append((store, case_id))
        return case

    monkeypatch.setattr(access, "load_case", load)
    store = object()
    directory = FakeDirectory()
    assert await visible_case(store, directory, SUPERVISOR, "c-1") is case  # type: ignore[arg-type]
    assert seen == [(store, "c-1")]
    assert directory.calls == [("street-a1", "district-a")]


@pytest.mark.parametrize("found", [True, False])
async def test_visible_case_missing_or_out_of_scope_is_not_found(
    monkeypatch: pytest.MonkeyPatch, found: bool
) -> None:
    case = _case("district-b") if found else None
    monkeypatch.setattr(access, "load_case", lambda store, case_id: case)
    with pytest.raises(Refusal) as raised:
        await visible_case(object(), FakeDirectory(), SUPERVISOR, "c-9")  # type: ignore[arg-type]
    error = raised.value
    assert error.status == 404
    assert error.code == "case_not_found"
    assert error.message_zh == "未找到案件 c-9"
    assert error.message_en == "no case c-9"
    assert error.extra == {}


# --- with_clock / _next_timer ---------------------------------------------------------

TIMER = NextTimer(at=datetime(2025, 4, 1, 1, tzinfo=UTC), action="reminder", due=date(2025, 4, 1))


class FakeHandle:
    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome
        self.queries: list[Any] = []

    async def query(self, query: Any) -> Any:
        self.queries.append(query)
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return SimpleNamespace(next_timer=self.outcome)


class FakeTemporal:
    def __init__(self, outcome: Any) -> None:
        self.handle = FakeHandle(outcome)
        self.workflow_ids: list[str] = []

    async def client(self) -> Any:
        if isinstance(self.handle.outcome, TemporalUnavailable):
            raise self.handle.outcome
        return self

    def get_workflow_handle(self, workflow_id: str) -> FakeHandle:
        self.workflow_ids.append(workflow_id)
        return self.handle


async def test_with_clock_adds_the_light_now_and_the_next_timer() -> None:
    case = _case()
    temporal = FakeTemporal(TIMER)
    clocked = await with_clock(case, temporal)  # type: ignore[arg-type]
    assert clocked.next_timer == TIMER
    assert clocked.light is TrafficLight.RED  # its deadline, 2025-04-30, has passed
    assert case.light is None
    assert case.next_timer is None
    assert clocked.state == case.state
    assert temporal.workflow_ids == ["case-c-1"]
    assert temporal.handle.queries == [RectificationCaseWorkflow.overview]


@pytest.mark.parametrize("failure", [TemporalUnavailable("down"), TimeoutError()])
async def test_with_clock_without_temporal_has_no_next_timer(failure: Exception) -> None:
    clocked = await with_clock(_case(), FakeTemporal(failure))  # type: ignore[arg-type]
    assert clocked.next_timer is None
    assert clocked.light is TrafficLight.RED


class _Clock:
    """``datetime`` as access.py sees it: ``now(tz)`` at a fixed moment, the zone recorded."""

    zones: ClassVar[list[Any]] = []

    @classmethod
    def now(cls, tz: Any = None) -> datetime:
        cls.zones.append(tz)
        # 2025-04-30 17:00 UTC is already 2025-05-01 in China: past the deadline.
        return datetime(2025, 4, 30, 17, tzinfo=tz)


async def test_with_clock_lights_the_case_at_this_moment_in_utc(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _Clock.zones = []
    monkeypatch.setattr(access, "datetime", _Clock)
    case = _case()  # deadline 2025-04-30
    clocked = await with_clock(case, FakeTemporal(TIMER))  # type: ignore[arg-type]
    assert _Clock.zones == [UTC]
    assert clocked.light is TrafficLight.RED


async def test_the_next_timer_query_waits_three_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    timeouts: list[Any] = []

    async def wait_for(awaitable: Any, **bound: Any) -> Any:
        timeouts.append(bound["timeout"])
        return await awaitable

    monkeypatch.setattr(access, "asyncio", SimpleNamespace(wait_for=wait_for))
    clocked = await with_clock(_case(), FakeTemporal(TIMER))  # type: ignore[arg-type]
    assert clocked.next_timer == TIMER
    assert timeouts == [3]
