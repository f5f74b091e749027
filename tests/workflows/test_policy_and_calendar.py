"""A case keeps the policy it opened under (across continue-as-new), and a calendar year
entered by the operator recounts a provisional deadline with an event, moving the timers.

The policies here know no calendar year at all (no package data), so every deadline is
counted on a provisional calendar of weekends only, and the "notice" the operator enters
declares three days of the second week holidays.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from cli.calendar import apply_calendar, provisional_case_streams
from domain.commands import RecomputeDeadline, ReportProgress, SubmitPlan
from domain.policy import CalendarPolicy, DeadlinePolicy, Policy
from domain.schedule import SYSTEM_ACTOR
from domain.workdays import CalendarYear
from store.event_store import EventStore
from tests.workflows.harness import UNIT, business_date, timeline
from workflows.case_workflow import RectificationCaseWorkflow as Case
from workflows.models import CaseWorkflowInput, TimerAction

pytestmark = pytest.mark.integration

PROVISIONAL_ONLY = Policy(
    version="test-2027",
    deadlines=DeadlinePolicy(time_limited=10),
    reminder_working_days=(2,),
    yellow_working_days=1,  # the warning on the deadline day: the reminder comes first
    calendar=CalendarPolicy(use_package=False, fixed_holidays=()),
)
# Day offsets from the opening Monday declared holidays by the "notice": Tue-Thu of week 2.
HOLIDAYS = (8, 9, 10)


def _notice(start: date) -> tuple[CalendarYear, ...]:
    """Calendar years covering the case's weeks, with the holidays placed from ``start``."""
    holidays = {start + timedelta(days=d) for d in HOLIDAYS}
    years = sorted({start.year, (start + timedelta(days=60)).year})
    return tuple(
        CalendarYear(year=year, holidays=frozenset(d for d in holidays if d.year == year))
        for year in years
    )


async def _latest_input(env: WorkflowEnvironment, workflow_id: str) -> CaseWorkflowInput:
    history = await env.client.get_workflow_handle(workflow_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    (decoded,) = await env.client.data_converter.decode(started.input.payloads, [CaseWorkflowInput])
    assert isinstance(decoded, CaseWorkflowInput)
    return decoded


async def test_a_case_keeps_the_policy_it_opened_under_across_continue_as_new(
    time_skipping_env: WorkflowEnvironment, event_store: EventStore
) -> None:
    async with timeline(
        time_skipping_env,
        event_store,
        deadline_offset=None,  # the policy's default: 10 working days, day 14
        policy=PROVISIONAL_ONLY,
        history_limit=20,
    ) as case:
        opened = case.stored()[1]
        assert opened["policy_version"] == "test-2027"
        assert opened["policy_hash"] == PROVISIONAL_ONLY.fingerprint()
        assert opened["policy_class"] is None
        first_run = (await case.handle.describe()).run_id

        await case.send(Case.submit_plan, SubmitPlan(actor=UNIT, plan="方案"))
        await asyncio.gather(
            *(
                case.send(Case.report_progress, ReportProgress(actor=UNIT, text=f"进展 {n}"))
                for n in range(8)
            )
        )
        await case.advance_to(13)
        assert (await case.handle.describe()).run_id != first_run  # continued as new
        carried = await _latest_input(time_skipping_env, case.handle.id)
        assert carried.carried is not None
        assert carried.policy == PROVISIONAL_ONLY

        # The policy's one reminder, 2 working days before Monday day 14: Thursday day 10.
        reminders = [e for e in case.stored() if e["type"] == "ReminderSent"]
        assert [(business_date(e["occurred_at"]), e["working_days_before"]) for e in reminders] == [
            (case.day(10), 2)
        ]


async def test_a_calendar_year_entered_later_recounts_a_provisional_deadline_and_its_timers(
    time_skipping_env: WorkflowEnvironment, event_store: EventStore
) -> None:
    async with timeline(
        time_skipping_env, event_store, deadline_offset=None, policy=PROVISIONAL_ONLY
    ) as case:
        opened = case.stored()[1]
        # 10 working days on weekends only: days 1-4, 7-11, 14.
        assert opened["deadline"] == case.day(14).isoformat()
        assert opened["deadline_provisional"] is True
        before = await case.overview()
        assert before.state is not None
        assert before.state.deadline_provisional
        assert before.next_timer is not None
        assert before.next_timer.due == case.day(10)

        # The operator enters the year: `zhenggai calendar apply` finds the case in the
        # log and sends its workflow the recompute update with the file's years.
        assert case.handle.id in provisional_case_streams(event_store.engine)
        report = await apply_calendar(
            time_skipping_env.client, [case.handle.id], _notice(case.start)
        )
        state = report.recounted[case.handle.id]
        # Days 8-10 are holidays now: 1-4, 7, 11, 14-17.
        assert state.deadline == case.day(17)
        assert not state.deadline_provisional

        recount = case.stored()[-1]
        assert recount["type"] == "DeadlineSet"
        assert recount["reason"] == "calendar_updated"
        assert recount["previous_deadline"] == case.day(14).isoformat()
        assert recount["deadline"] == case.day(17).isoformat()
        assert recount["deadline_provisional"] is False

        # The timers moved: the reminder is 2 working days before day 17 on the new
        # calendar (day 15), and nothing is overdue on day 15.
        after = await case.overview()
        assert after.next_timer is not None
        assert after.next_timer.action is TimerAction.REMINDER
        assert after.next_timer.due == case.day(15)
        await case.advance_to(16)
        assert [t for t, _ in case.events() if t == "CaseOverdue"] == []
        assert ("ReminderSent", case.day(15)) in case.events()

        # Once recounted, the deadline is no longer provisional: a second apply skips it.
        again = await apply_calendar(
            time_skipping_env.client, [case.handle.id], _notice(case.start)
        )
        assert again.recounted == {}
        assert again.skipped == {case.handle.id: "deadline_not_provisional"}
        refused = await case.refused(Case.recompute_deadline, RecomputeDeadline(actor=SYSTEM_ACTOR))
        assert refused.details[0] == "deadline_not_provisional"
