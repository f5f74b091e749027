"""A case as the caller may see it: not found when absent or outside the caller's scope."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError

from api.auth import in_scope
from api.case_view import load_case
from api.models import CaseOut
from api.problems import Problem
from api.temporal_gateway import TemporalGateway, TemporalUnavailable
from domain.policy import DEFAULT_POLICY
from domain.traffic_light import traffic_light
from domain.vocabulary import Actor
from store.directory import Directory
from store.event_store import EventStore
from workflows.case_workflow import RectificationCaseWorkflow
from workflows.models import NextTimer

__all__ = ["visible_case", "with_clock"]


async def visible_case(
    store: EventStore, directory: Directory, actor: Actor, case_id: str
) -> CaseOut:
    case = await asyncio.to_thread(load_case, store, case_id)
    visible = case is not None and await asyncio.to_thread(
        in_scope, directory, actor, case.state.unit_id
    )
    if case is None or not visible:
        raise Problem(404, "case_not_found", f"未找到案件 {case_id}", f"no case {case_id}")
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
