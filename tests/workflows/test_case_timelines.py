"""Whole case timelines on the time-skipping server, checked event by event in the store.

Day offsets count from the Monday the case was opened (day 0, 10:00 in China). The
calendar has weekends only: day 4 is a Friday, day 11 the next Friday, and "5 working
days before Friday day 11" is Friday day 4. Reminders, warnings and escalations fire at
09:00, overdue at 00:00 after the deadline day.
"""

from __future__ import annotations

import asyncio

import pytest
from temporalio.client import RPCError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.models import Audience, NotificationKind
from domain.commands import (
    ApplyTolerance,
    GrantExtension,
    RecordAccountability,
    RecordSatisfaction,
    RejectClosure,
    ReopenCase,
    ReportMilestone,
    ReportProgress,
    RequestClosure,
    RequestExtension,
    SubmitPlan,
    TransferResponsibility,
    VerifyClosure,
    WithdrawCase,
)
from domain.vocabulary import AccountabilityAction, CaseKind, CaseStatus, TrafficLight
from store.event_store import EventStore
from tests.workflows.harness import CST, SUPERVISOR, UNIT, Timeline, timeline
from workflows.case_workflow import RectificationCaseWorkflow as Case
from workflows.models import TimerAction

pytestmark = pytest.mark.integration


async def _close(case: Timeline, request_day: int, verify_day: int) -> None:
    await case.advance_to(request_day)
    await case.send(Case.request_closure, RequestClosure(actor=UNIT, summary="整改完成"))
    await case.advance_to(verify_day)
    await case.send(Case.verify_closure, VerifyClosure(actor=SUPERVISOR, comment="验收通过"))


async def test_a_case_closed_on_time_is_reminded_then_closed_and_completes_after_look_back(
    time_skipping_env: WorkflowEnvironment, event_store: EventStore
) -> None:
    async with timeline(time_skipping_env, event_store, deadline_offset=18) as case:
        await case.advance_to(1)
        await case.send(Case.submit_plan, SubmitPlan(actor=UNIT, plan="清理砂场，恢复河道"))
        await case.advance_to(12)
        await case.send(Case.report_progress, ReportProgress(actor=UNIT, text="完成八成"))
        await _close(case, request_day=16, verify_day=17)
        assert case.events() == [
            ("FindingRecorded", case.day(0)),
            ("CaseOpened", case.day(0)),
            ("PlanSubmitted", case.day(1)),
            ("ReminderSent", case.day(11)),  # 5 working days before Friday day 18
            ("WarningRaised", case.day(11)),
            ("ProgressReported", case.day(12)),
            ("ReminderSent", case.day(15)),  # 3 working days before
            ("ClosureRequested", case.day(16)),  # no 1-day reminder: closure is pending
            ("ClosureVerified", case.day(17)),
            ("CaseClosed", case.day(17)),
        ]
        stored = case.stored()
        assert [e["working_days_before"] for e in stored if e["type"] == "ReminderSent"] == [5, 3]
        timed = (NotificationKind.REMINDER, NotificationKind.WARNING)
        assert [(n.kind, n.idempotency_key) for n in case.sink.notices if n.kind in timed] == [
            (NotificationKind.REMINDER, str(event.event_id))
            if event.type == "ReminderSent"
            else (NotificationKind.WARNING, str(event.event_id))
            for event in event_store.read_stream(case.handle.id)
            if event.type in ("ReminderSent", "WarningRaised")
        ]
        reminder = case.sink.notices[0]
        assert reminder.recipients[0].audience is Audience.RESPONSIBLE
        assert reminder.recipients[0].cadre_id == "cadre-7"
        assert reminder.occurred_at.astimezone(CST).hour == 9

        overview = await case.overview()
        assert overview.light is TrafficLight.GREY
        assert overview.next_timer is not None
        assert overview.next_timer.action is TimerAction.LOOK_BACK_END
        assert overview.next_timer.due == case.day(17 + 180 + 1)
        final = await case.run_out()
    assert final.status is CaseStatus.CLOSED
    assert len(case.events()) == 10


async def test_an_overdue_case_climbs_all_four_levels_then_waits_for_accountability(
    time_skipping_env: WorkflowEnvironment, event_store: EventStore
) -> None:
    async with timeline(time_skipping_env, event_store, deadline_offset=11) as case:
        early = await case.refused(
            Case.record_accountability,
            RecordAccountability(
                actor=SUPERVISOR, action=AccountabilityAction.ADMONISHMENT_TALK, reason="逾期"
            ),
        )
        assert early.type == "InvalidState"
        assert early.details[0] == "accountability_not_due"

        await case.advance_to(41)
        overview = await case.overview()
        assert overview.light is TrafficLight.RED
        assert overview.decision_pending
        assert overview.next_timer is not None
        assert overview.next_timer.action is TimerAction.DECISION_REMINDER
        assert overview.next_timer.due == case.day(46)  # 5 working days after level 4

        await case.advance_to(49)
        state = await case.send(
            Case.record_accountability,
            RecordAccountability(
                actor=SUPERVISOR, action=AccountabilityAction.ADMONISHMENT_TALK, reason="逾期未改"
            ),
        )
        assert state.accountability_count == 1
        assert case.events() == [
            ("FindingRecorded", case.day(0)),
            ("CaseOpened", case.day(0)),
            ("ReminderSent", case.day(4)),
            ("WarningRaised", case.day(4)),
            ("ReminderSent", case.day(8)),
            ("ReminderSent", case.day(10)),
            ("CaseOverdue", case.day(12)),  # Saturday 00:00, after Friday's deadline
            ("CaseEscalated", case.day(14)),  # 1 working day after the deadline
            ("CaseEscalated", case.day(18)),  # 5
            ("CaseEscalated", case.day(25)),  # 10
            ("CaseEscalated", case.day(39)),  # 20
            ("AccountabilityRecorded", case.day(49)),
        ]
        escalations = [e for e in case.stored() if e["type"] == "CaseEscalated"]
        assert [(e["level"], e["working_days_overdue"]) for e in escalations] == [
            (1, 1),
            (2, 5),
            (3, 10),
            (4, 20),
        ]
        system = event_store.read_stream(case.handle.id)[2]
        assert system.metadata["actor"] == "system"
        assert system.metadata["role"] == "system"

        kinds = [(n.kind, n.level) for n in case.sink.notices]
        assert kinds == [
            (NotificationKind.REMINDER, None),
            (NotificationKind.WARNING, None),
            (NotificationKind.REMINDER, None),
            (NotificationKind.REMINDER, None),
            (NotificationKind.OVERDUE, None),
            (NotificationKind.ESCALATION, 1),
            (NotificationKind.ESCALATION, 2),
            (NotificationKind.ESCALATION, 3),
            (NotificationKind.ESCALATION, 4),
            (NotificationKind.DECISION_REMINDER, 4),  # day 46: the supervisor is reminded
        ]
        level_4_id = str(event_store.read_stream(case.handle.id)[10].event_id)
        reminder = case.sink.notices[-1]
        assert reminder.idempotency_key == f"{level_4_id}:decision-reminder:1"
        assert reminder.occurred_at.astimezone(CST).date() == case.day(46)
        assert [r.audience for r in reminder.recipients] == [Audience.SUPERVISOR]
        listed = case.sink.notices[7]
        assert Audience.LEADERSHIP in {r.audience for r in listed.recipients}

        overview = await case.overview()
        assert not overview.decision_pending
        assert overview.next_timer is None  # nothing left for the clock until a human acts
        tolerance = await case.send(
            Case.apply_tolerance, ApplyTolerance(actor=SUPERVISOR, reason="客观原因，容错")
        )
        assert tolerance.tolerance_count == 1


async def test_an_extension_granted_before_the_deadline_moves_every_timer(
    time_skipping_env: WorkflowEnvironment, event_store: EventStore
) -> None:
    async with timeline(time_skipping_env, event_store, deadline_offset=11) as case:
        await case.advance_to(1)
        await case.send(
            Case.request_extension,
            RequestExtension(actor=UNIT, reason="汛期无法施工", proposed_deadline=case.day(25)),
        )
        await case.advance_to(2)
        state = await case.send(Case.grant_extension, GrantExtension(actor=SUPERVISOR))
        assert state.deadline == case.day(25)
        timer = (await case.overview()).next_timer
        assert timer is not None
        assert (timer.action, timer.due, timer.working_days_before) == (
            TimerAction.REMINDER,
            case.day(18),
            5,
        )

        await case.advance_to(28)
        refused = await case.refused(
            Case.request_extension,
            RequestExtension(actor=UNIT, reason="再延一次", proposed_deadline=case.day(39)),
        )
        assert refused.type == "InvalidState"
        assert refused.details[0] == "extension_after_deadline"
        assert "延期申请须在整改期限" in refused.details[1]
        assert refused.message.startswith("an extension must be requested by the deadline")
        assert case.events() == [
            ("FindingRecorded", case.day(0)),
            ("CaseOpened", case.day(0)),
            ("ExtensionRequested", case.day(1)),
            ("ExtensionGranted", case.day(2)),
            ("DeadlineExtended", case.day(2)),
            ("ReminderSent", case.day(18)),  # nothing on day 4: the old deadline's timers moved
            ("WarningRaised", case.day(18)),
            ("ReminderSent", case.day(22)),
            ("ReminderSent", case.day(24)),
            ("CaseOverdue", case.day(26)),
            ("CaseEscalated", case.day(28)),
        ]


async def test_a_rejected_closure_sends_the_case_back_to_work_until_it_is_verified(
    time_skipping_env: WorkflowEnvironment, event_store: EventStore
) -> None:
    async with timeline(time_skipping_env, event_store, deadline_offset=18) as case:
        too_early = await case.refused(
            Case.request_closure, RequestClosure(actor=UNIT, summary="已完成")
        )
        assert (too_early.type, too_early.details[0]) == ("InvalidState", "plan_required")
        await case.advance_to(1)
        await case.send(Case.submit_plan, SubmitPlan(actor=UNIT, plan="方案"))
        await case.advance_to(2)
        await case.send(Case.request_closure, RequestClosure(actor=UNIT, summary="已完成"))
        by_unit = await case.refused(Case.verify_closure, VerifyClosure(actor=UNIT))
        assert (by_unit.type, by_unit.details[0]) == ("PermissionDenied", "supervisor_only")
        await case.advance_to(3)
        state = await case.send(
            Case.reject_closure, RejectClosure(actor=SUPERVISOR, reason="佐证材料不足")
        )
        assert (state.status, state.closure_rejections) == (CaseStatus.OPEN, 1)
        again = await case.refused(Case.verify_closure, VerifyClosure(actor=SUPERVISOR))
        assert again.details[0] == "no_pending_closure"
        await _close(case, request_day=12, verify_day=13)
        assert case.events() == [
            ("FindingRecorded", case.day(0)),
            ("CaseOpened", case.day(0)),
            ("PlanSubmitted", case.day(1)),
            ("ClosureRequested", case.day(2)),
            ("ClosureRejected", case.day(3)),
            ("ReminderSent", case.day(11)),  # back to work, the deadline unchanged
            ("WarningRaised", case.day(11)),
            ("ClosureRequested", case.day(12)),
            ("ClosureVerified", case.day(13)),
            ("CaseClosed", case.day(13)),
        ]
        closed = case.stored()[-1]
        assert closed["deadline"] == closed["original_deadline"] == case.day(18).isoformat()


async def test_a_closed_case_reopened_within_look_back_starts_its_cycle_again(
    time_skipping_env: WorkflowEnvironment, event_store: EventStore
) -> None:
    async with timeline(time_skipping_env, event_store, deadline_offset=18) as case:
        await case.advance_to(1)
        await case.send(Case.submit_plan, SubmitPlan(actor=UNIT, plan="方案"))
        await _close(case, request_day=2, verify_day=3)
        await case.advance_to(10)
        await case.send(
            Case.record_satisfaction, RecordSatisfaction(actor=SUPERVISOR, score_percent=92)
        )
        await case.advance_to(30)
        state = await case.send(
            Case.reopen_case,
            ReopenCase(actor=SUPERVISOR, reason="回头看发现反弹", deadline=case.day(46)),
        )
        assert (state.status, state.reopen_count, state.deadline) == (
            CaseStatus.OPEN,
            1,
            case.day(46),
        )
        await _close(case, request_day=40, verify_day=41)
        assert case.events() == [
            ("FindingRecorded", case.day(0)),
            ("CaseOpened", case.day(0)),
            ("PlanSubmitted", case.day(1)),
            ("ClosureRequested", case.day(2)),
            ("ClosureVerified", case.day(3)),
            ("CaseClosed", case.day(3)),
            ("SatisfactionRecorded", case.day(10)),
            ("CaseReopened", case.day(30)),
            ("ReminderSent", case.day(39)),  # 5 working days before Friday day 46
            ("WarningRaised", case.day(39)),
            ("ClosureRequested", case.day(40)),
            ("ClosureVerified", case.day(41)),
            ("CaseClosed", case.day(41)),
        ]
        final = await case.run_out()
        assert final.reopen_count == 1
        assert final.closed_at is not None
        assert final.closed_at.astimezone(CST).date() == case.day(41)


async def test_a_withdrawn_case_ends_its_workflow_and_takes_no_more_commands(
    time_skipping_env: WorkflowEnvironment, event_store: EventStore
) -> None:
    async with timeline(time_skipping_env, event_store, deadline_offset=18) as case:
        await case.advance_to(3)
        state = await case.send(
            Case.withdraw_case, WithdrawCase(actor=SUPERVISOR, reason="经核实问题不存在")
        )
        assert state.status is CaseStatus.WITHDRAWN
        final = await case.handle.result()
        assert final.status is CaseStatus.WITHDRAWN
        with pytest.raises((WorkflowUpdateFailedError, RPCError)):
            await case.send(Case.submit_plan, SubmitPlan(actor=UNIT, plan="方案"))
        assert case.events() == [
            ("FindingRecorded", case.day(0)),
            ("CaseOpened", case.day(0)),
            ("CaseWithdrawn", case.day(3)),
        ]


async def test_a_long_term_case_keeps_each_milestone_and_flags_the_late_one(
    time_skipping_env: WorkflowEnvironment, event_store: EventStore
) -> None:
    async with timeline(
        time_skipping_env,
        event_store,
        deadline_offset=60,
        kind=CaseKind.LONG_TERM,
        milestone_offsets=(18, 39),
        max_cached_workflows=0,  # every task replays the history: determinism, all along
    ) as case:
        await case.advance_to(17)
        await case.send(
            Case.report_milestone,
            ReportMilestone(actor=UNIT, milestone_id="m1", text="第一阶段完成"),
        )
        await case.advance_to(40, hour=12)
        assert (await case.overview()).light is TrafficLight.YELLOW  # behind milestone m2
        await case.advance_to(42)
        await case.send(
            Case.report_milestone,
            ReportMilestone(actor=UNIT, milestone_id="m2", text="第二阶段完成（逾期）"),
        )
        await case.advance_to(54)
        assert case.events() == [
            ("FindingRecorded", case.day(0)),
            ("CaseOpened", case.day(0)),
            ("MilestoneReported", case.day(17)),
            ("MilestoneDue", case.day(18)),  # m1, reported in time: no warning
            ("MilestoneDue", case.day(39)),  # m2
            ("WarningRaised", case.day(40)),  # m2 not reported by its day
            ("MilestoneReported", case.day(42)),
            ("ReminderSent", case.day(53)),  # the case's own deadline, Friday day 60
            ("WarningRaised", case.day(53)),
        ]
        stored = case.stored()
        assert [e.get("milestone_id") for e in stored if e["type"] == "MilestoneDue"] == [
            "m1",
            "m2",
        ]
        warnings = [e for e in stored if e["type"] == "WarningRaised"]
        assert [(w["reason"], w["milestone_id"]) for w in warnings] == [
            ("behind_milestone", "m2"),
            ("near_deadline", None),
        ]
        assert [(n.kind, n.milestone_id) for n in case.sink.notices][:3] == [
            (NotificationKind.MILESTONE_DUE, "m1"),
            (NotificationKind.MILESTONE_DUE, "m2"),
            (NotificationKind.MILESTONE_BEHIND, "m2"),
        ]


async def test_a_transfer_changes_who_is_reminded(
    time_skipping_env: WorkflowEnvironment, event_store: EventStore
) -> None:
    async with timeline(time_skipping_env, event_store, deadline_offset=11) as case:
        await case.advance_to(2)
        await case.send(
            Case.transfer_responsibility,
            TransferResponsibility(
                actor=SUPERVISOR, unit_id="county-water", cadre_id="cadre-9", reason="职能调整"
            ),
        )
        old_unit = await case.refused(Case.submit_plan, SubmitPlan(actor=UNIT, plan="方案"))
        assert (old_unit.type, old_unit.details[0]) == ("PermissionDenied", "not_own_unit")
        await case.advance_to(5)
        assert case.events()[-2:] == [
            ("ReminderSent", case.day(4)),
            ("WarningRaised", case.day(4)),
        ]
        responsible = case.sink.notices[0].recipients[0]
        assert (responsible.audience, responsible.unit_id, responsible.cadre_id) == (
            Audience.RESPONSIBLE,
            "county-water",
            "cadre-9",
        )


async def test_two_verifications_at_once_close_the_case_once_and_refuse_the_other(
    time_skipping_env: WorkflowEnvironment, event_store: EventStore
) -> None:
    async with timeline(time_skipping_env, event_store, deadline_offset=18) as case:
        await case.advance_to(1)
        await case.send(Case.submit_plan, SubmitPlan(actor=UNIT, plan="方案"))
        await case.send(Case.request_closure, RequestClosure(actor=UNIT, summary="完成"))
        # Arriving in one workflow task, both pass the validator on the same pending
        # closure; the handler, holding the case's write lock, decides again and refuses
        # the second. Arriving apart, the validator refuses it. The caller sees the same.
        outcomes = await asyncio.gather(
            case.send(Case.verify_closure, VerifyClosure(actor=SUPERVISOR)),
            case.send(Case.verify_closure, VerifyClosure(actor=SUPERVISOR)),
            return_exceptions=True,
        )
        closed = [o for o in outcomes if not isinstance(o, BaseException)]
        refused = [o for o in outcomes if isinstance(o, WorkflowUpdateFailedError)]
        assert [s.status for s in closed] == [CaseStatus.CLOSED]
        assert len(refused) == 1
        cause = refused[0].cause
        assert isinstance(cause, ApplicationError)
        assert (cause.type, cause.details[0]) == ("InvalidState", "no_pending_closure")
        assert [t for t, _ in case.events()].count("CaseClosed") == 1
