"""Opening a case with update-with-start: one round trip, and a repeat opens nothing twice."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio.client import WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.testing import WorkflowEnvironment

from domain.state import CaseState
from domain.vocabulary import CaseStatus
from store.event_store import EventStore
from tests.workflows.harness import open_case, terminate_if_running
from worker import build_worker
from workflows.case_workflow import RectificationCaseWorkflow as Case
from workflows.models import CaseWorkflowInput, RequestContext, case_workflow_id

pytestmark = pytest.mark.integration


async def test_update_with_start_returns_the_opened_case_and_a_repeat_reuses_it(
    time_skipping_env: WorkflowEnvironment, event_store: EventStore
) -> None:
    env = time_skipping_env
    queue = f"tq-{uuid.uuid4()}"
    finding_id = uuid.uuid4().hex
    deadline = (await env.get_current_time()).date() + timedelta(days=30)

    async def open_once() -> CaseState:
        start = WithStartWorkflowOperation(
            Case.run,
            CaseWorkflowInput(
                command=open_case(finding_id, deadline),
                context=RequestContext(request_id="req-uws"),
            ),
            id=case_workflow_id(finding_id),
            task_queue=queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        state: CaseState = await env.client.execute_update_with_start_workflow(
            Case.wait_opened, start_workflow_operation=start
        )
        return state

    async with build_worker(env.client, event_store, task_queue=queue, max_cached_workflows=10):
        first = await open_once()
        again = await open_once()
        assert first.status is CaseStatus.OPEN
        assert again == first
        stored = event_store.read_stream(case_workflow_id(finding_id))
        assert [e.type for e in stored] == ["FindingRecorded", "CaseOpened"]
        await terminate_if_running(env.client.get_workflow_handle(case_workflow_id(finding_id)))
