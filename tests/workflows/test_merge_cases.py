"""合并案件 on the time-skipping server: a case merged into another ends its workflow
like a withdrawal (no reminder, warning, overdue or escalation ever fires for it), and
the surviving case lists it and its findings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import RPCError, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from domain.commands import AbsorbCase, MergeIntoCase, SubmitPlan
from domain.values import MergedFinding
from domain.vocabulary import CaseStatus, Source
from store.event_store import EventStore
from tests.workflows.harness import SUPERVISOR, UNIT, timeline
from workflows.case_workflow import RectificationCaseWorkflow as Case

pytestmark = pytest.mark.integration


async def test_a_merged_case_stops_its_timers_and_the_surviving_case_lists_it(
    time_skipping_env: WorkflowEnvironment, event_store: EventStore
) -> None:
    async with timeline(time_skipping_env, event_store, deadline_offset=18) as absorbed:
        await absorbed.advance_to(3)
        # The harness opens the second case on the next Monday (day 7 of the first).
        async with timeline(time_skipping_env, event_store, deadline_offset=30) as surviving:
            absorbed_id = absorbed.handle.id.removeprefix("case-")
            surviving_id = surviving.handle.id.removeprefix("case-")
            kept = await surviving.send(
                Case.absorb_case,
                AbsorbCase(
                    actor=SUPERVISOR,
                    absorbed_case_id=absorbed_id,
                    absorbed_unit_id="county-env",
                    reason="同一问题，两个渠道重复立项",
                    findings=(
                        MergedFinding(finding_id=absorbed_id, source=Source.AUDIT, title="重复"),
                    ),
                ),
            )
            assert kept.absorbed_case_ids == (absorbed_id,)
            assert absorbed_id in {f.finding_id for f in kept.findings}

            state = await absorbed.send(
                Case.merge_into_case,
                MergeIntoCase(
                    actor=SUPERVISOR, into_case_id=surviving_id, reason="同一问题重复立项"
                ),
            )
            assert state.status is CaseStatus.MERGED
            assert state.merged_into == surviving_id
            final = await absorbed.handle.result()  # the workflow completed: no timer left
            assert final.status is CaseStatus.MERGED

            # Long past the absorbed case's deadline: nothing more was written for it.
            await time_skipping_env.sleep(timedelta(days=40))
            assert [t for t, _ in absorbed.events()] == [
                "FindingRecorded",
                "CaseOpened",
                "CaseMergedInto",
            ]
            assert absorbed.events()[-1][1] < absorbed.day(18)  # before its deadline
            with pytest.raises((WorkflowUpdateFailedError, RPCError)):
                await absorbed.send(Case.submit_plan, SubmitPlan(actor=UNIT, plan="方案"))
