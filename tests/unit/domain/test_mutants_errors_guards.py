# mypy: disable-error-code="func-returns-value"
# (The guards return None on purpose; the tests assert it, to kill mutants that return.)
"""Exact codes and texts of the domain errors and of every guard (mutation testing)."""

from __future__ import annotations

from datetime import date

import pytest

from domain import guards
from domain.errors import DomainError, InvalidCommand, InvalidState, PermissionDenied
from domain.state import CaseState
from domain.vocabulary import Actor, CaseStatus, Role

from .builders import SUPERVISOR, UNIT, opened


def test_domain_error_text_and_messages() -> None:
    error = InvalidState("some_code", "中文说明", "english text")
    assert str(error) == "some_code: english text"
    assert error.args == ("some_code: english text",)
    assert (error.code, error.message_zh, error.message_en) == (
        "some_code",
        "中文说明",
        "english text",
    )
    assert error.message() == "中文说明"  # the default language is Chinese
    assert error.message("zh-CN") == "中文说明"
    assert error.message("en") == "english text"
    assert error.message("EN") == "中文说明"
    assert isinstance(error, DomainError)


def actor(role: Role, unit_id: str | None = None) -> Actor:
    return Actor(user_id="u", role=role, unit_id=unit_id)


def test_inspector_is_read_only_even_when_allowed() -> None:
    with pytest.raises(PermissionDenied) as raised:
        guards.ensure_role(actor(Role.INSPECTOR), frozenset({Role.INSPECTOR}), "做", "do")
    e = raised.value
    assert e.code == "inspector_read_only"
    assert e.message_zh == "审计纪检巡察人员只能查阅，不能修改案件"
    assert e.message_en == "an inspector reads cases and changes nothing"


def test_allowed_role_passes() -> None:
    assert guards.ensure_role(SUPERVISOR, frozenset({Role.SUPERVISOR}), "做", "do") is None


@pytest.mark.parametrize(
    ("allowed", "code", "zh", "en"),
    [
        ({Role.SUPERVISOR}, "supervisor_only", "督查部门", "supervisor"),
        ({Role.UNIT}, "unit_only", "责任单位", "unit"),
        ({Role.SYSTEM}, "system_only", "系统", "system"),
        ({Role.ADMIN}, "admin_only", "管理员", "admin"),
        (
            {Role.SYSTEM, Role.SUPERVISOR},
            "supervisor_or_system_only",
            "督查部门或系统",
            "supervisor or system",
        ),
        (
            {Role.UNIT, Role.SUPERVISOR, Role.SYSTEM},
            "supervisor_or_system_or_unit_only",
            "督查部门或系统或责任单位",
            "supervisor or system or unit",
        ),
    ],
)
def test_other_role_is_refused_by_name(allowed: set[Role], code: str, zh: str, en: str) -> None:
    other = Role.UNIT if Role.ADMIN in allowed else Role.ADMIN
    with pytest.raises(PermissionDenied) as raised:
        guards.ensure_role(actor(other), frozenset(allowed), "立项", "open a case")
    e = raised.value
    assert e.code == code
    assert e.message_zh == f"只有{zh}可以立项"
    assert e.message_en == f"only a {en} may open a case"


def test_inspector_label_in_a_refusal() -> None:
    with pytest.raises(PermissionDenied) as raised:
        guards.ensure_role(SUPERVISOR, frozenset({Role.INSPECTOR}), "查", "read")
    assert raised.value.code == "inspector_only"
    assert raised.value.message_zh == "只有审计纪检巡察人员可以查"
    assert raised.value.message_en == "only a inspector may read"


def test_ensure_case() -> None:
    state = opened().case
    assert guards.ensure_case(state) is state
    with pytest.raises(InvalidState) as raised:
        guards.ensure_case(None)
    assert raised.value.code == "no_case"
    assert raised.value.message_zh == "该案件不存在"
    assert raised.value.message_en == "there is no such case"


def test_ensure_own_unit() -> None:
    state = opened(unit_id="unit-a").case
    assert guards.ensure_own_unit(UNIT, state) is None
    assert guards.ensure_own_unit(actor(Role.SUPERVISOR, "unit-z"), state) is None
    with pytest.raises(PermissionDenied) as raised:
        guards.ensure_own_unit(actor(Role.UNIT, "unit-b"), state)
    assert raised.value.code == "not_own_unit"
    assert raised.value.message_zh == "责任单位只能办理本单位的案件"
    assert raised.value.message_en == "a unit may act only on its own cases"


def _with_status(status: CaseStatus) -> CaseState:
    return opened().case.model_copy(update={"status": status})


@pytest.mark.parametrize(
    ("status", "zh"),
    [
        (CaseStatus.RECORDED, "已登记未立项"),
        (CaseStatus.OPEN, "整改中"),
        (CaseStatus.CLOSURE_PENDING, "待验收"),
        (CaseStatus.CLOSED, "已销号"),
        (CaseStatus.WITHDRAWN, "已撤销"),
        (CaseStatus.MERGED, "已合并"),
    ],
)
def test_ensure_status_names_the_status(status: CaseStatus, zh: str) -> None:
    state = _with_status(status)
    assert guards.ensure_status(state, frozenset({status}), "x") is None
    with pytest.raises(InvalidState) as raised:
        guards.ensure_status(state, frozenset(), "wrong_state")
    e = raised.value
    assert e.code == "wrong_state"
    assert e.message_zh == f"案件当前状态为“{zh}”，不能办理此事项"
    assert e.message_en == f"the case is {status.value}, which does not allow this"


@pytest.mark.parametrize(
    ("status", "active"),
    [
        (CaseStatus.RECORDED, False),
        (CaseStatus.OPEN, True),
        (CaseStatus.CLOSURE_PENDING, True),
        (CaseStatus.CLOSED, False),
        (CaseStatus.WITHDRAWN, False),
        (CaseStatus.MERGED, False),
    ],
)
def test_ensure_active(status: CaseStatus, active: bool) -> None:
    state = _with_status(status)
    if active:
        assert guards.ensure_active(state) is None
        return
    with pytest.raises(InvalidState) as raised:
        guards.ensure_active(state)
    assert raised.value.code == "case_not_active"


def test_ensure_future_deadline_boundary() -> None:
    today = date(2025, 3, 3)
    assert guards.ensure_future_deadline(date(2025, 3, 4), today) is None
    for deadline in (today, date(2025, 3, 2)):
        with pytest.raises(InvalidCommand) as raised:
            guards.ensure_future_deadline(deadline, today)
        e = raised.value
        assert e.code == "deadline_not_in_future"
        assert e.message_zh == f"整改期限 2025年3月{deadline.day}日 必须晚于今天"
        assert e.message_en == f"the deadline {deadline} must be after today"
