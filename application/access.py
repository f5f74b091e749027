"""Who may see what: the scope rules every door applies.

A supervisor or an inspector works on their unit's subtree; a unit user on their
own unit; an admin keeps the directory and sees no case. A case outside the
caller's scope is answered as not found (404), exactly like one that does not
exist; a unit outside it, asked for in a list or a board, as unknown (422), so
neither can be probed.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError

from application.case_view import load_case
from application.errors import Refusal
from application.models import CaseOut
from application.temporal_gateway import TemporalGateway, TemporalUnavailable
from domain.policy import DEFAULT_POLICY
from domain.traffic_light import traffic_light
from domain.vocabulary import Actor, Role
from store.directory import Cadre, Directory, Unit
from store.event_store import EventStore
from workflows.case_workflow import RectificationCaseWorkflow
from workflows.models import NextTimer

__all__ = [
    "cadre_in_scope",
    "ensure_role",
    "ensure_sees_cases",
    "in_scope",
    "scope_root",
    "unknown_unit",
    "visible_case",
    "with_clock",
]


def in_scope(directory: Directory, actor: Actor, unit_id: str) -> bool:
    if actor.unit_id is None:
        return False
    if actor.role is Role.UNIT:
        return unit_id == actor.unit_id
    if actor.role in (Role.SUPERVISOR, Role.INSPECTOR):
        return directory.is_within(unit_id, actor.unit_id)
    return False


def cadre_in_scope(directory: Directory, actor: Actor, cadre_id: str) -> Cadre:
    """The cadre a person names as responsible (opening, assigning, transferring): one of
    their scope's units. One outside it is answered like one that does not exist."""
    cadre = directory.cadre(cadre_id)
    if cadre is None or not in_scope(directory, actor, cadre.unit_id):
        raise Refusal(
            422,
            "cadre_not_found",
            f"责任人 {cadre_id} 不存在或不在您的管辖范围内",
            f"cadre {cadre_id} does not exist within your scope",
            errors=[{"field": "body.cadre_id", "message": "unknown cadre"}],
        )
    return cadre


def ensure_role(actor: Actor, *roles: Role) -> None:
    if actor.role not in roles:
        raise Refusal(
            403,
            "forbidden_role",
            f"此操作仅限：{'、'.join(roles)}",
            f"only {', '.join(roles)} may do this",
        )


def ensure_sees_cases(actor: Actor) -> None:
    """Supervisors, inspectors and units see cases; an admin manages users, not cases."""
    if actor.role not in (Role.SUPERVISOR, Role.INSPECTOR, Role.UNIT):
        raise Refusal(403, "forbidden_role", "管理员不查看案件", "admins see no cases")


def unknown_unit(unit: str) -> Refusal:
    return Refusal(
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


async def visible_case(
    store: EventStore, directory: Directory, actor: Actor, case_id: str
) -> CaseOut:
    case = await asyncio.to_thread(load_case, store, case_id)
    visible = case is not None and await asyncio.to_thread(
        in_scope, directory, actor, case.state.unit_id
    )
    if case is None or not visible:
        raise Refusal(404, "case_not_found", f"未找到案件 {case_id}", f"no case {case_id}")
    return case


async def with_clock(case: CaseOut, temporal: TemporalGateway) -> CaseOut:
    """The case with its light now and what its workflow's clock does next."""
    return case.model_copy(
        update={
            "light": traffic_light(case.state, datetime.now(UTC), DEFAULT_POLICY),
            "next_timer": await _next_timer(temporal, case.workflow_id),
        }
    )


async def _next_timer(temporal: TemporalGateway, workflow_id: str) -> NextTimer | None:
    """From the workflow itself; None once it has finished or while Temporal is away."""
    try:
        client = await temporal.client()
        handle = client.get_workflow_handle(workflow_id)
        overview = await asyncio.wait_for(
            handle.query(RectificationCaseWorkflow.overview), timeout=3
        )
    except (TemporalUnavailable, RPCError, WorkflowQueryFailedError, TimeoutError):
        return None
    return overview.next_timer
