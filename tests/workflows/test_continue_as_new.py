"""Continue-as-new with a tiny history limit: the case keeps its state and loses no update."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from domain.case import fold
from domain.commands import ReportProgress, RequestClosure, SubmitPlan, VerifyClosure
from domain.events import event_from_json
from domain.vocabulary import CaseStatus
from store.event_store import EventStore
from tests.workflows.harness import SUPERVISOR, UNIT, timeline
from workflows.case_workflow import RectificationCaseWorkflow as Case

pytestmark = pytest.mark.integration


async def _runs(client: Client, workflow_id: str, run_id: str) -> int:
    """How many runs the chain that starts with this run has so far."""
    count = 1
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        last = history.events[-1]
        if not last.HasField("workflow_execution_continued_as_new_event_attributes"):
            return count
        run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
        count += 1


async def test_a_case_continued_as_new_many_times_keeps_its_state_and_every_update(
    time_skipping_env: WorkflowEnvironment, event_store: EventStore
) -> None:
    async with timeline(
        time_skipping_env, event_store, deadline_offset=18, history_limit=40
    ) as case:
        first_run = (await case.handle.describe()).run_id
        await case.advance_to(1)
        await case.send(Case.submit_plan, SubmitPlan(actor=UNIT, plan="方案"))
        # Many updates at once: some arrive while a run is draining to continue as new.
        reports = await asyncio.gather(
            *(
                case.send(Case.report_progress, ReportProgress(actor=UNIT, text=f"进展 {n}"))
                for n in range(12)
            )
        )
        assert sorted(r.version for r in reports) == list(range(4, 16))
        await case.advance_to(16)
        last = await case.handle.describe()
        assert last.run_id != first_run
        first = case.env.client.get_workflow_handle(case.handle.id, run_id=first_run)
        assert (await first.describe()).status is WorkflowExecutionStatus.CONTINUED_AS_NEW
        assert await _runs(case.env.client, case.handle.id, first_run) >= 3

        stored = event_store.read_stream(case.handle.id)
        assert [e.version for e in stored] == list(range(1, len(stored) + 1))
        texts = sorted(e.data["text"] for e in stored if e.type == "ProgressReported")
        assert texts == sorted(f"进展 {n}" for n in range(12))
        assert [e.type for e in stored if e.type in ("ReminderSent", "WarningRaised")] == [
            "ReminderSent",
            "WarningRaised",
            "ReminderSent",
        ]
        # The state carried across runs is the fold of the log, event for event.
        state = await case.handle.query(Case.current_state)
        assert state == fold(event_from_json(e.type, e.schema_version, e.data) for e in stored)

        await case.send(Case.request_closure, RequestClosure(actor=UNIT, summary="完成"))
        await case.advance_to(17)
        await case.send(
            Case.verify_closure,
            VerifyClosure(actor=SUPERVISOR),
        )
        final = await case.run_out()
    assert final.status is CaseStatus.CLOSED
    assert final.version == len(event_store.read_stream(case.handle.id))
