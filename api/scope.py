"""The subtree a list or a board covers: the caller's own, or a unit within it.

A unit user sees their own unit only; a supervisor or an inspector their unit's
subtree, or the subtree of a unit inside it. A unit outside the caller's scope
is answered as if it did not exist (422), so a list cannot probe for units.
"""

from __future__ import annotations

from api.auth import in_scope
from api.problems import Problem
from domain.vocabulary import Actor, Role
from store.directory import Directory, Unit

__all__ = ["ensure_sees_cases", "scope_root", "unknown_unit"]


def ensure_sees_cases(actor: Actor) -> None:
    """Supervisors, inspectors and units see cases; an admin manages users, not cases."""
    if actor.role not in (Role.SUPERVISOR, Role.INSPECTOR, Role.UNIT):
        raise Problem(403, "forbidden_role", "管理员不查看案件", "admins see no cases")


def unknown_unit(unit: str) -> Problem:
    return Problem(
        422,
        "unit_not_found",
        f"单位 {unit} 不存在或不在您的管辖范围内",
        f"unit {unit} does not exist within your scope",
        errors=[{"field": "query.unit", "message": "unknown unit"}],
    )


def scope_root(directory: Directory, actor: Actor, unit: str | None) -> Unit:
    """The root of the subtree asked for (``unit``, default the caller's own unit)."""
    if actor.role is Role.UNIT and unit is not None and unit != actor.unit_id:
        raise unknown_unit(unit)
    root = unit or actor.unit_id
    if root is None or (unit is not None and not in_scope(directory, actor, unit)):
        raise unknown_unit(unit or "")
    found = directory.unit(root)
    if found is None:
        raise unknown_unit(root)
    return found
