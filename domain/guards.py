"""Guards: each checks one rule and raises a typed ``DomainError`` before any event exists.

Who may do what (DOMAIN.md, "The people"):

- a supervisor records, opens, assigns, sets deadline and target, decides
  extensions, verifies closure, reopens, withdraws, records accountability;
- a unit works only on its own cases: plan, progress, milestones, extension
  and closure requests;
- an inspector reads and changes nothing;
- the system (the workflow's timers) reminds, warns and escalates, and never
  decides a human matter.

Whether a supervisor's subtree of units contains the case is checked by the
API, which knows the unit tree; the domain sees only one case.
"""

from __future__ import annotations

from datetime import date

from domain.chinese_dates import zh_date
from domain.errors import InvalidCommand, InvalidState, PermissionDenied
from domain.state import CaseState
from domain.vocabulary import Actor, CaseStatus, Role

__all__ = [
    "ensure_active",
    "ensure_case",
    "ensure_future_deadline",
    "ensure_own_unit",
    "ensure_role",
    "ensure_status",
]

_ROLE_ZH = {
    Role.SUPERVISOR: "督查部门",
    Role.UNIT: "责任单位",
    Role.SYSTEM: "系统",
    Role.INSPECTOR: "审计纪检巡察人员",
    Role.ADMIN: "管理员",
}

_STATUS_ZH = {
    CaseStatus.RECORDED: "已登记未立项",
    CaseStatus.OPEN: "整改中",
    CaseStatus.CLOSURE_PENDING: "待验收",
    CaseStatus.CLOSED: "已销号",
    CaseStatus.WITHDRAWN: "已撤销",
    CaseStatus.MERGED: "已合并",
}


def ensure_role(actor: Actor, allowed: frozenset[Role], action_zh: str, action_en: str) -> None:
    if actor.role is Role.INSPECTOR:
        raise PermissionDenied(
            "inspector_read_only",
            "审计纪检巡察人员只能查阅，不能修改案件",
            "an inspector reads cases and changes nothing",
        )
    if actor.role not in allowed:
        who_zh = "或".join(_ROLE_ZH[r] for r in sorted(allowed))
        who_en = " or ".join(sorted(allowed))
        raise PermissionDenied(
            f"{'_or_'.join(sorted(allowed))}_only",
            f"只有{who_zh}可以{action_zh}",
            f"only a {who_en} may {action_en}",
        )


def ensure_case(state: CaseState | None) -> CaseState:
    if state is None:
        raise InvalidState("no_case", "该案件不存在", "there is no such case")
    return state


def ensure_own_unit(actor: Actor, state: CaseState) -> None:
    """A unit user acts only on cases of their own unit."""
    if actor.role is Role.UNIT and actor.unit_id != state.unit_id:
        raise PermissionDenied(
            "not_own_unit",
            "责任单位只能办理本单位的案件",
            "a unit may act only on its own cases",
        )


def ensure_status(state: CaseState, allowed: frozenset[CaseStatus], code: str) -> None:
    if state.status not in allowed:
        raise InvalidState(
            code,
            f"案件当前状态为“{_STATUS_ZH[state.status]}”，不能办理此事项",
            f"the case is {state.status}, which does not allow this",
        )


def ensure_active(state: CaseState) -> None:
    """Opened and neither closed nor withdrawn."""
    ensure_status(
        state, frozenset({CaseStatus.OPEN, CaseStatus.CLOSURE_PENDING}), "case_not_active"
    )


def ensure_future_deadline(deadline: date, today: date) -> None:
    if deadline <= today:
        raise InvalidCommand(
            "deadline_not_in_future",
            f"整改期限 {zh_date(deadline)} 必须晚于今天",
            f"the deadline {deadline} must be after today",
        )
