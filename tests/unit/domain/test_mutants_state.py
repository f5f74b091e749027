"""domain/state.py: what each event changes in a case, field by field (mutation testing).

Each event is applied to a "busy" case, one whose every field differs from its default,
and the whole resulting state is compared with the busy one plus exactly the expected
changes: a field changed that should not be, or left that should change, fails.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

import pytest

from domain.errors import InvalidState
from domain.events import (
    AccountabilityRecorded,
    CaseAbsorbed,
    CaseClosed,
    CaseEscalated,
    CaseMergedInto,
    CaseOpened,
    CaseOverdue,
    CaseReopened,
    CaseWithdrawn,
    ClosureRejected,
    ClosureRequested,
    ClosureVerified,
    DeadlineExtended,
    DeadlineSet,
    DuplicateFindingMerged,
    Event,
    ExtensionDenied,
    ExtensionGranted,
    ExtensionRequested,
    FindingRecorded,
    MilestoneDue,
    MilestoneReported,
    MilestonesSet,
    PlanSubmitted,
    ProgressReported,
    ReminderSent,
    ResponsibilityAssigned,
    ResponsibilityTransferred,
    SatisfactionRecorded,
    TargetSet,
    ToleranceApplied,
    WarningRaised,
)
from domain.state import (
    LOOSE_TYPES,
    CaseState,
    FindingRef,
    MilestoneState,
    PendingExtension,
    evolve,
    evolve_owned,
    evolve_owned_time,
    fold,
)
from domain.values import MergedFinding, Milestone
from domain.vocabulary import (
    AccountabilityAction,
    CaseKind,
    CaseStatus,
    EscalationLevel,
    Source,
    WarningReason,
)

from .builders import at

T0 = at(2025, 3, 3)
T1 = at(2025, 3, 10)
D_OLD = date(2025, 4, 30)
D_NEW = date(2025, 6, 30)

M1 = MilestoneState(milestone_id="m1", title="一", due=date(2025, 4, 1))
M2 = MilestoneState(
    milestone_id="m2", title="二", due=date(2025, 4, 20), due_marked=True, warned=True
)

RECORDED = FindingRecorded(
    occurred_at=T0,
    finding_id="F-1",
    source=Source.INSPECTION,
    title="标题",
    description="d",
    unit_id="unit-a",
    cadre_id="cadre-1",
)


def busy() -> CaseState:
    """An open case with every per-deadline and per-life field away from its default."""
    state = fold([RECORDED])
    assert state is not None
    return state.model_copy(
        update={
            "status": CaseStatus.CLOSURE_PENDING,
            "kind": CaseKind.LONG_TERM,
            "deadline": D_OLD,
            "target": "目标",
            "opened_at": T0,
            "version": 7,
            "original_deadline": date(2025, 4, 1),
            "deadline_working_days": 40,
            "deadline_counted_from": date(2025, 2, 1),
            "deadline_provisional": True,
            "milestones": (M1, M2),
            "plan_submitted": True,
            "pending_extension": PendingExtension(
                request_number=2, proposed_deadline=date(2025, 5, 9)
            ),
            "extensions_requested": 2,
            "extensions_granted": 1,
            "closure_rejections": 3,
            "closed_at": T0,
            "withdrawn_at": T0,
            "merged_into": "X-1",
            "absorbed_case_ids": ("A-1",),
            "reminders_sent": (5, 3),
            "warned": True,
            "overdue": True,
            "escalation_level": 2,
            "highest_escalation_level": 3,
            "reopen_count": 1,
            "accountability_count": 2,
            "tolerance_count": 4,
            "last_event_at": T0,
        }
    )


def check(event: Event, changes: dict[str, Any]) -> CaseState:
    """evolve and evolve_owned give the busy state with exactly ``changes``."""
    before = busy()
    expected = before.model_copy(
        update={**changes, "version": 8, "last_event_at": event.occurred_at}
    ).model_dump()
    after = evolve(before, event)
    assert after.model_dump() == expected
    assert before.model_dump() == busy().model_dump()  # evolve changes nothing in place
    assert after.model_fields_set == before.model_fields_set | set(changes) | {
        "version",
        "last_event_at",
    }
    owned = busy()
    assert evolve_owned(owned, event) is owned
    assert owned.model_dump() == expected
    assert owned.model_fields_set == after.model_fields_set
    return after


NEW_DEADLINE = {
    "reminders_sent": (),
    "warned": False,
    "overdue": False,
    "escalation_level": 0,
}


def test_first_event_builds_the_recorded_case() -> None:
    state = evolve(None, RECORDED)
    assert (
        state.model_dump()
        == CaseState(
            case_id="F-1",
            findings=(FindingRef(finding_id="F-1", source=Source.INSPECTION, title="标题"),),
            status=CaseStatus.RECORDED,
            title="标题",
            unit_id="unit-a",
            cadre_id="cadre-1",
            recorded_at=T0,
            version=1,
            last_event_at=T0,
        ).model_dump()
    )
    assert state.model_fields_set == {
        "case_id",
        "findings",
        "status",
        "title",
        "unit_id",
        "cadre_id",
        "recorded_at",
        "version",
        "last_event_at",
    }
    assert state.findings[0].model_fields_set == {"finding_id", "source", "title"}
    assert evolve_owned(None, RECORDED).model_dump() == state.model_dump()


def test_a_first_event_that_is_not_a_finding_is_refused() -> None:
    for apply in (evolve, evolve_owned):
        with pytest.raises(InvalidState) as raised:
            apply(None, TargetSet(occurred_at=T0, target="x"))
        e = raised.value
        assert e.code == "no_finding"
        assert e.message_zh == "尚无登记的问题"
        assert e.message_en == "TargetSet before any finding was recorded"


def test_a_second_finding_is_refused() -> None:
    with pytest.raises(InvalidState) as raised:
        evolve(busy(), RECORDED)
    e = raised.value
    assert (e.code, e.message_zh, e.message_en) == (
        "finding_already_recorded",
        "该问题已登记",
        "the finding is already recorded",
    )


def test_an_unknown_event_is_refused() -> None:
    class Strange(Event):
        event_type: ClassVar[str] = "Strange"

    with pytest.raises(InvalidState) as raised:
        evolve(busy(), Strange(occurred_at=T1))
    e = raised.value
    assert e.code == "unknown_event"
    assert e.message_zh == "未知事件：Strange"
    assert e.message_en == "unknown event Strange"


def test_a_subclass_of_an_event_changes_what_its_class_changes() -> None:
    class Louder(TargetSet):
        pass

    check(Louder(occurred_at=T1, target="新"), {"target": "新"})


def test_opened() -> None:
    milestone = Milestone(milestone_id="n1", title="节点", due=date(2025, 5, 1))
    event = CaseOpened(
        occurred_at=T1,
        case_id="F-1",
        finding_id="F-1",
        unit_id="unit-b",
        cadre_id="cadre-2",
        kind=CaseKind.IMMEDIATE,
        deadline=D_NEW,
        target="新目标",
        deadline_working_days=10,
        deadline_counted_from=date(2025, 3, 10),
        deadline_provisional=False,
        milestones=(milestone,),
    )
    check(
        event,
        {
            "status": CaseStatus.OPEN,
            "unit_id": "unit-b",
            "cadre_id": "cadre-2",
            "kind": CaseKind.IMMEDIATE,
            "target": "新目标",
            "opened_at": T1,
            "original_deadline": D_NEW,
            "deadline_working_days": 10,
            "deadline_counted_from": date(2025, 3, 10),
            "deadline_provisional": False,
            "milestones": (MilestoneState(milestone_id="n1", title="节点", due=date(2025, 5, 1)),),
            "deadline": D_NEW,
            **NEW_DEADLINE,
        },
    )


def test_merged_finding_is_added() -> None:
    event = DuplicateFindingMerged(
        occurred_at=T1, finding_id="F-2", source=Source.PETITION, title="另一来源"
    )
    state = check(
        event,
        {
            "findings": (
                FindingRef(finding_id="F-1", source=Source.INSPECTION, title="标题"),
                FindingRef(finding_id="F-2", source=Source.PETITION, title="另一来源"),
            )
        },
    )
    assert state.findings[1].model_dump() == {
        "finding_id": "F-2",
        "source": Source.PETITION,
        "title": "另一来源",
    }


def test_responsibility() -> None:
    check(
        ResponsibilityAssigned(occurred_at=T1, cadre_id="c-9", previous_cadre_id="x", reason="r"),
        {"cadre_id": "c-9"},
    )
    check(
        ResponsibilityTransferred(
            occurred_at=T1,
            unit_id="u-9",
            cadre_id="c-9",
            previous_unit_id="x",
            previous_cadre_id="y",
            reason="r",
        ),
        {"unit_id": "u-9", "cadre_id": "c-9"},
    )


def test_deadline_set_to_a_new_date_resets_the_per_deadline_fields() -> None:
    event = DeadlineSet(
        occurred_at=T1,
        deadline=D_NEW,
        previous_deadline=D_OLD,
        reason="r",
        deadline_working_days=None,
        deadline_counted_from=None,
        deadline_provisional=False,
    )
    check(
        event,
        {
            "original_deadline": D_NEW,
            "deadline_working_days": None,
            "deadline_counted_from": None,
            "deadline_provisional": False,
            "deadline": D_NEW,
            **NEW_DEADLINE,
        },
    )


def test_deadline_set_to_the_same_date_keeps_the_reminders_sent() -> None:
    event = DeadlineSet(
        occurred_at=T1,
        deadline=D_OLD,
        previous_deadline=D_OLD,
        reason="calendar_updated",
        deadline_working_days=41,
        deadline_counted_from=date(2025, 2, 2),
        deadline_provisional=False,
    )
    check(
        event,
        {
            "original_deadline": D_OLD,
            "deadline_working_days": 41,
            "deadline_counted_from": date(2025, 2, 2),
            "deadline_provisional": False,
            "deadline": D_OLD,
        },
    )


def test_deadline_extended_is_a_fixed_date() -> None:
    event = DeadlineExtended(
        occurred_at=T1, deadline=D_NEW, previous_deadline=D_OLD, request_number=2
    )
    check(
        event,
        {
            "deadline_working_days": None,
            "deadline_counted_from": None,
            "deadline_provisional": False,
            "deadline": D_NEW,
            **NEW_DEADLINE,
        },
    )


def test_plain_changes() -> None:
    check(TargetSet(occurred_at=T1, target="新"), {"target": "新"})
    check(PlanSubmitted(occurred_at=T1, plan="p"), {"plan_submitted": True})
    check(
        ReminderSent(occurred_at=T1, deadline=D_OLD, working_days_before=1),
        {"reminders_sent": (5, 3, 1)},
    )
    check(CaseOverdue(occurred_at=T1, deadline=D_OLD), {"overdue": True})
    check(ClosureRequested(occurred_at=T1, summary="s"), {"status": CaseStatus.CLOSURE_PENDING})
    check(
        ClosureRejected(occurred_at=T1, reason="r"),
        {"status": CaseStatus.OPEN, "closure_rejections": 4},
    )
    check(ClosureVerified(occurred_at=T1, comment="c"), {})
    check(ProgressReported(occurred_at=T1, text="t"), {})
    check(SatisfactionRecorded(occurred_at=T1, score_percent=90), {})
    check(
        CaseClosed(occurred_at=T1, deadline=D_OLD, original_deadline=D_OLD),
        {"status": CaseStatus.CLOSED, "closed_at": T1},
    )
    check(
        AccountabilityRecorded(
            occurred_at=T1,
            cadre_id="c",
            action=AccountabilityAction.REASSIGNMENT,
            reason="r",
            escalation_level=4,
        ),
        {"accountability_count": 3},
    )
    check(
        ToleranceApplied(occurred_at=T1, cadre_id="c", reason="r", escalation_level=4),
        {"tolerance_count": 5},
    )


def test_milestone_marks() -> None:
    check(
        MilestoneDue(occurred_at=T1, milestone_id="m1", due=M1.due),
        {"milestones": (M1.model_copy(update={"due_marked": True}), M2)},
    )
    check(
        MilestoneReported(occurred_at=T1, milestone_id="m2", text="t"),
        {"milestones": (M1, M2.model_copy(update={"reported": True}))},
    )
    check(MilestoneDue(occurred_at=T1, milestone_id="nope", due=M1.due), {"milestones": (M1, M2)})


def test_milestones_set_keeps_the_marks_of_a_kept_milestone() -> None:
    event = MilestonesSet(
        occurred_at=T1,
        milestones=(
            Milestone(milestone_id="m2", title="二", due=M2.due),  # kept as it was
            Milestone(milestone_id="m1", title="一改", due=M1.due),  # renamed
            Milestone(milestone_id="m3", title="三", due=date(2025, 4, 25)),  # new
        ),
        previous_milestones=(),
        reason="r",
    )
    after = check(
        event,
        {
            "milestones": (
                M2,
                M1.model_copy(update={"title": "一改"}),
                MilestoneState(milestone_id="m3", title="三", due=date(2025, 4, 25)),
            )
        },
    )
    assert after.milestones[0] is not None
    assert after.milestones[0].warned is True
    assert evolve(busy(), event).milestones[0] is M2  # kept as it was, not copied
    # The same id on another date is a new milestone: its marks are gone.
    moved = MilestonesSet(
        occurred_at=T1,
        milestones=(Milestone(milestone_id="m2", title="二", due=date(2025, 4, 21)),),
        previous_milestones=(),
        reason="r",
    )
    check(
        moved,
        {"milestones": (MilestoneState(milestone_id="m2", title="二", due=date(2025, 4, 21)),)},
    )


def test_warning_of_the_deadline_and_of_a_milestone() -> None:
    check(
        WarningRaised(occurred_at=T1, reason=WarningReason.NEAR_DEADLINE, deadline=D_OLD),
        {"warned": True},
    )
    near_with_id = WarningRaised(
        occurred_at=T1, reason=WarningReason.NEAR_DEADLINE, deadline=D_OLD, milestone_id="m1"
    )
    check(near_with_id, {"warned": True})
    behind = WarningRaised(
        occurred_at=T1, reason=WarningReason.BEHIND_MILESTONE, deadline=D_OLD, milestone_id="m1"
    )
    check(behind, {"milestones": (M1.model_copy(update={"warned": True}), M2)})
    behind_no_id = WarningRaised(
        occurred_at=T1, reason=WarningReason.BEHIND_MILESTONE, deadline=D_OLD
    )
    check(behind_no_id, {"warned": True})
    # On a case not yet warned: the milestone warning leaves the case's own flag alone.
    state = busy().model_copy(update={"warned": False})
    assert evolve(state, behind).warned is False


@pytest.mark.parametrize(("level", "highest"), [(1, 3), (3, 3), (4, 4)])
def test_escalated(level: int, highest: int) -> None:
    event = CaseEscalated(
        occurred_at=T1, level=EscalationLevel(level), deadline=D_OLD, working_days_overdue=9
    )
    after = check(event, {"escalation_level": level, "highest_escalation_level": highest})
    assert type(after.escalation_level) is int
    assert type(after.highest_escalation_level) is int


def test_extensions() -> None:
    check(
        ExtensionRequested(
            occurred_at=T1,
            request_number=3,
            reason="r",
            proposed_deadline=D_NEW,
            current_deadline=D_OLD,
        ),
        {
            "pending_extension": PendingExtension(request_number=3, proposed_deadline=D_NEW),
            "extensions_requested": 3,
        },
    )
    check(
        ExtensionGranted(occurred_at=T1, request_number=2, new_deadline=D_NEW, comment="c"),
        {"pending_extension": None, "extensions_granted": 2},
    )
    check(
        ExtensionDenied(occurred_at=T1, request_number=2, reason="r"), {"pending_extension": None}
    )


def test_reopened_starts_a_new_deadline() -> None:
    event = CaseReopened(
        occurred_at=T1,
        reason="回头看",
        deadline=D_NEW,
        deadline_working_days=20,
        deadline_counted_from=date(2025, 3, 10),
        deadline_provisional=True,
    )
    check(
        event,
        {
            "status": CaseStatus.OPEN,
            "closed_at": None,
            "reopen_count": 2,
            "original_deadline": D_NEW,
            "deadline_working_days": 20,
            "deadline_counted_from": date(2025, 3, 10),
            "deadline_provisional": True,
            "pending_extension": None,
            "deadline": D_NEW,
            **NEW_DEADLINE,
        },
    )


def test_withdrawn_and_merged() -> None:
    check(
        CaseWithdrawn(occurred_at=T1, reason="r"),
        {"status": CaseStatus.WITHDRAWN, "withdrawn_at": T1, "pending_extension": None},
    )
    check(
        CaseMergedInto(occurred_at=T1, reason="r", into_case_id="Y-2"),
        {"status": CaseStatus.MERGED, "merged_into": "Y-2", "pending_extension": None},
    )


def test_absorbed() -> None:
    event = CaseAbsorbed(
        occurred_at=T1,
        absorbed_case_id="B-2",
        reason="r",
        findings=(
            MergedFinding(finding_id="G-1", source=Source.PETITION, title="甲"),
            MergedFinding(finding_id="G-2", source=Source.ANNUAL, title="乙"),
        ),
    )
    check(
        event,
        {
            "findings": (
                FindingRef(finding_id="F-1", source=Source.INSPECTION, title="标题"),
                FindingRef(finding_id="G-1", source=Source.PETITION, title="甲"),
                FindingRef(finding_id="G-2", source=Source.ANNUAL, title="乙"),
            ),
            "absorbed_case_ids": ("A-1", "B-2"),
        },
    )


def test_evolve_owned_time_moves_only_the_version_and_the_time() -> None:
    for event_type in sorted(LOOSE_TYPES):
        state = busy()
        before = state.model_dump()
        assert evolve_owned_time(state, event_type, T1) is state
        assert state.model_dump() == {**before, "version": 8, "last_event_at": T1}
    with pytest.raises(TypeError) as raised:
        evolve_owned_time(busy(), "CaseOpened", T1)
    assert str(raised.value) == "a CaseOpened changes more than the loose fields: fold it whole"
    with pytest.raises(InvalidState) as refused:
        evolve_owned_time(None, "TargetSet", T1)
    assert refused.value.code == "no_finding"
    assert refused.value.message_en == "TargetSet before any finding was recorded"


def test_fold() -> None:
    assert fold([]) is None
    target = TargetSet(occurred_at=T1, target="新")
    state = fold([RECORDED, target])
    assert state is not None
    assert state.version == 2
    assert state.target == "新"
    assert state.last_event_at == T1
    assert isinstance(state.recorded_at, datetime)


def test_is_active_and_milestone_lookup() -> None:
    state = busy()
    assert state.milestone("m2") == M2
    assert state.milestone("zz") is None
    assert [state.model_copy(update={"status": s}).is_active for s in CaseStatus] == [
        s in (CaseStatus.OPEN, CaseStatus.CLOSURE_PENDING) for s in CaseStatus
    ]
