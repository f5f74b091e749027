"""A long-term case (长期整改) on the time-skipping server: its milestones, the yellow light
of a missed one, a supervisor moving them, and the timers that follow.

Day offsets count from the Monday the case was opened (day 0, 10:00 in China); the
calendar has weekends only. A milestone is marked due at 00:00 of its day and, when not
reported by then, warned about at 09:00 the day after.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from activities.models import NotificationKind
from domain.commands import (
    ReportMilestone,
    RequestClosure,
    SetMilestones,
    SubmitPlan,
    VerifyClosure,
)
from domain.values import Milestone
from domain.vocabulary import CaseKind, CaseStatus, TrafficLight
from store.event_store import EventStore
from tests.workflows.harness import SUPERVISOR, UNIT, Timeline, timeline
from workflows.case_workflow import RectificationCaseWorkflow as Case
from workflows.models import TimerAction

pytestmark = pytest.mark.integration


def _milestone(case: Timeline, number: int, offset: int) -> Milestone:
    return Milestone(
        milestone_id=f"m{number}", title=f"第{number}阶段", due=case.start + timedelta(days=offset)
    )


async def test_a_missed_milestone_is_yellow_until_reported_and_moved_ones_move_their_timer(
    time_skipping_env: WorkflowEnvironment, event_store: EventStore
) -> None:
    async with timeline(
        time_skipping_env,
        event_store,
        deadline_offset=60,  # a Friday
        kind=CaseKind.LONG_TERM,
        milestone_offsets=(18, 32, 46),  # Fridays
        max_cached_workflows=0,  # every task replays the history: determinism, all along
    ) as case:
        await case.advance_to(1)
        await case.send(Case.submit_plan, SubmitPlan(actor=UNIT, plan="排查、分期改造、验收"))
        # m1 passes unreported: marked due on its day, warned about the day after
        await case.advance_to(19, hour=12)
        seen = await case.overview()
        assert seen.light is TrafficLight.YELLOW
        assert seen.state is not None
        assert [(m.milestone_id, m.due_marked, m.warned) for m in seen.state.milestones] == [
            ("m1", True, True),
            ("m2", False, False),
            ("m3", False, False),
        ]

        # the unit reports it late: the light is green again
        await case.advance_to(20)
        await case.send(
            Case.report_milestone,
            ReportMilestone(actor=UNIT, milestone_id="m1", text="排查完成（逾期两天）"),
        )
        seen = await case.overview()
        assert seen.light is TrafficLight.GREEN
        assert seen.next_timer is not None
        assert (seen.next_timer.action, seen.next_timer.milestone_id, seen.next_timer.due) == (
            TimerAction.MILESTONE_DUE,
            "m2",
            case.day(32),
        )

        # the supervisor moves m2 a week later: the next timer follows
        await case.advance_to(21)
        m1, m2_moved, m3 = _milestone(case, 1, 18), _milestone(case, 2, 39), _milestone(case, 3, 46)
        moved_reported = await case.refused(
            Case.set_milestones,
            SetMilestones(
                actor=SUPERVISOR,
                milestones=(_milestone(case, 1, 25), m2_moved, m3),
                reason="顺延",
            ),
        )
        assert (moved_reported.type, moved_reported.details[0]) == (
            "InvalidCommand",
            "reported_milestone_changed",
        )
        by_unit = await case.refused(
            Case.set_milestones,
            SetMilestones(actor=UNIT, milestones=(m1, m2_moved, m3), reason="顺延"),
        )
        assert (by_unit.type, by_unit.details[0]) == ("PermissionDenied", "supervisor_only")
        state = await case.send(
            Case.set_milestones,
            SetMilestones(
                actor=SUPERVISOR, milestones=(m1, m2_moved, m3), reason="二期设备到货延后"
            ),
        )
        assert [(m.milestone_id, m.due, m.reported) for m in state.milestones] == [
            ("m1", case.day(18), True),
            ("m2", case.day(39), False),
            ("m3", case.day(46), False),
        ]
        seen = await case.overview()
        assert seen.next_timer is not None
        assert (seen.next_timer.action, seen.next_timer.milestone_id, seen.next_timer.due) == (
            TimerAction.MILESTONE_DUE,
            "m2",
            case.day(39),
        )

        # m2 and m3 reported in time; then the case is closed
        await case.advance_to(38)
        await case.send(
            Case.report_milestone,
            ReportMilestone(actor=UNIT, milestone_id="m2", text="一期改造完成"),
        )
        await case.advance_to(45)
        await case.send(
            Case.report_milestone,
            ReportMilestone(actor=UNIT, milestone_id="m3", text="全部完成"),
        )
        assert (await case.overview()).light is TrafficLight.GREEN
        await case.advance_to(47)
        await case.send(Case.request_closure, RequestClosure(actor=UNIT, summary="整改完成"))
        await case.advance_to(48)
        closed = await case.send(
            Case.verify_closure, VerifyClosure(actor=SUPERVISOR, comment="验收通过")
        )
        assert closed.status is CaseStatus.CLOSED
        assert (await case.overview()).light is TrafficLight.GREY

        assert case.events() == [
            ("FindingRecorded", case.day(0)),
            ("CaseOpened", case.day(0)),
            ("PlanSubmitted", case.day(1)),
            ("MilestoneDue", case.day(18)),  # m1
            ("WarningRaised", case.day(19)),  # m1 not reported by its day
            ("MilestoneReported", case.day(20)),
            ("MilestonesSet", case.day(21)),  # nothing at day 32 any more
            ("MilestoneReported", case.day(38)),
            ("MilestoneDue", case.day(39)),  # m2, reported in time: no warning
            ("MilestoneReported", case.day(45)),
            ("MilestoneDue", case.day(46)),  # m3
            ("ClosureRequested", case.day(47)),
            ("ClosureVerified", case.day(48)),
            ("CaseClosed", case.day(48)),
        ]
        stored = case.stored()
        [warning] = [e for e in stored if e["type"] == "WarningRaised"]
        assert (warning["reason"], warning["milestone_id"]) == ("behind_milestone", "m1")
        [changed] = [e for e in stored if e["type"] == "MilestonesSet"]
        assert changed["reason"] == "二期设备到货延后"
        assert [m["due"] for m in changed["previous_milestones"]] == [
            case.day(18).isoformat(),
            case.day(32).isoformat(),
            case.day(46).isoformat(),
        ]
        assert [m["due"] for m in changed["milestones"]] == [
            case.day(18).isoformat(),
            case.day(39).isoformat(),
            case.day(46).isoformat(),
        ]
        milestone_kinds = (NotificationKind.MILESTONE_DUE, NotificationKind.MILESTONE_BEHIND)
        notices = [(n.kind, n.milestone_id) for n in case.sink.notices]
        assert [n for n in notices if n[0] in milestone_kinds] == [
            (NotificationKind.MILESTONE_DUE, "m1"),
            (NotificationKind.MILESTONE_BEHIND, "m1"),
            (NotificationKind.MILESTONE_DUE, "m2"),
            (NotificationKind.MILESTONE_DUE, "m3"),
        ]
