"""The case workflow on the time-skipping server, with its real activity and real PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.commands import OpenCase
from domain.vocabulary import Actor, CaseStatus, Role, Source
from store.event_store import EventStore
from tests.workflows.harness import terminate_if_running
from worker import build_worker
from workflows.case_workflow import RectificationCaseWorkflow
from workflows.models import CaseWorkflowInput, RequestContext, case_workflow_id

pytestmark = pytest.mark.integration

SUPERVISOR = Actor(user_id="sup-1", role=Role.SUPERVISOR, unit_id="prov")


def _command(finding_id: str, now: datetime, days: int = 30) -> OpenCase:
    return OpenCase(
        actor=SUPERVISOR,
        finding_id=finding_id,
        source=Source.AUDIT,
        title="污水处理厂超标排放",
        unit_id="county-env",
        cadre_id="cadre-7",
        deadline=(now + timedelta(days=days)).date(),
    )


async def test_opening_a_case_appends_finding_and_case_events_once(
    time_skipping_env: WorkflowEnvironment, event_store: EventStore
) -> None:
    env = time_skipping_env
    # The server's clock is shared and earlier tests moved it: dates follow it, not the wall.
    now = await env.get_current_time()
    queue = f"tq-{uuid.uuid4()}"
    finding_id = uuid.uuid4().hex
    workflow_id = case_workflow_id(finding_id)
    # The server's clock is shared: hold it still, so no timer of any case fires while
    # this one opens (an update, unlike a result, does not stop time from skipping).
    with env.auto_time_skipping_disabled():
        async with build_worker(env.client, event_store, task_queue=queue, max_cached_workflows=10):
            handle = await env.client.start_workflow(
                RectificationCaseWorkflow.run,
                CaseWorkflowInput(
                    command=_command(finding_id, now), context=RequestContext(request_id="req-1")
                ),
                id=workflow_id,
                task_queue=queue,
            )
            state = await handle.execute_update(RectificationCaseWorkflow.wait_opened)
            assert state.status is CaseStatus.OPEN
            assert state.case_id == finding_id
            queried = await handle.query(RectificationCaseWorkflow.current_state)
            assert queried == state
            # The case's clock is now running: stop it, or its timers would fire for no worker.
            await terminate_if_running(handle)
    stored = event_store.read_stream(workflow_id)
    assert [(e.version, e.type) for e in stored] == [(1, "FindingRecorded"), (2, "CaseOpened")]
    assert stored[0].data["title"] == "污水处理厂超标排放"
    assert state.deadline is not None
    assert stored[1].data["deadline"] == state.deadline.isoformat()
    assert stored[0].metadata == {
        "actor": "sup-1",
        "role": "supervisor",
        "unit_id": "prov",
        "request_id": "req-1",
        "causation_id": "req-1",
        "correlation_id": workflow_id,
        "workflow_id": workflow_id,
    }
    assert stored[1].metadata["causation_id"] == str(stored[0].event_id)


async def test_a_case_with_a_past_deadline_fails_without_writing(
    time_skipping_env: WorkflowEnvironment, event_store: EventStore
) -> None:
    env = time_skipping_env
    # The server's clock is shared and earlier tests moved it: dates follow it, not the wall.
    now = await env.get_current_time()
    queue = f"tq-{uuid.uuid4()}"
    finding_id = uuid.uuid4().hex
    async with build_worker(env.client, event_store, task_queue=queue, max_cached_workflows=10):
        with pytest.raises(WorkflowFailureError) as caught:
            await env.client.execute_workflow(
                RectificationCaseWorkflow.run,
                CaseWorkflowInput(command=_command(finding_id, now, days=-3)),
                id=case_workflow_id(finding_id),
                task_queue=queue,
            )
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "InvalidCommand"
    assert cause.details[0] == "deadline_not_in_future"
    assert event_store.read_stream(case_workflow_id(finding_id)) == []
