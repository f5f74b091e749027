"""Long-term cases (长期整改): milestones set at opening and changed later by a supervisor."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from domain.case import decide
from domain.commands import (
    MarkMilestoneDue,
    RaiseWarning,
    ReportMilestone,
    SetMilestones,
    WithdrawCase,
)
from domain.errors import DomainError, InvalidCommand, InvalidState, PermissionDenied
from domain.events import MilestonesSet, event_from_json, event_from_json_text
from domain.schedule import planned_steps
from domain.state import fold
from domain.traffic_light import traffic_light
from domain.values import Milestone
from domain.vocabulary import Actor, CaseKind, TrafficLight, WarningReason

from .builders import (
    INSPECTOR,
    NOW,
    OTHER_UNIT,
    SUPERVISOR,
    SYSTEM,
    UNIT,
    History,
    at,
    open_case,
    opened,
)

DEADLINE = date(2025, 12, 31)
M1 = Milestone(milestone_id="m1", title="完成排查", due=date(2025, 4, 30))
M2 = Milestone(milestone_id="m2", title="一期改造", due=date(2025, 8, 31))
M3 = Milestone(milestone_id="m3", title="全部完成", due=date(2025, 11, 30))


def long_term(*milestones: Milestone) -> History:
    return opened(kind=CaseKind.LONG_TERM, deadline=DEADLINE, milestones=milestones or (M1, M2))


def set_to(*milestones: Milestone, reason: str = "工程顺延") -> SetMilestones:
    return SetMilestones(actor=SUPERVISOR, milestones=milestones, reason=reason)


def refusal(history: History, command: SetMilestones, now: datetime = NOW) -> DomainError:
    with pytest.raises(DomainError) as refused:
        history.do(command, now)
    return refused.value


# -- opening --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("milestones", "code", "path"),
    [
        (
            (M1, M1.model_copy(update={"due": date(2025, 5, 1)})),
            "milestone_ids_repeat",
            "1.milestone_id",
        ),
        ((M2, M1), "milestones_not_in_order", "1.due"),
        ((M1, M2.model_copy(update={"due": M1.due})), "milestones_not_in_order", "1.due"),
        ((M1.model_copy(update={"due": NOW.date()}),), "milestone_out_of_range", "0.due"),
        ((M1, M3.model_copy(update={"due": date(2026, 1, 5)})), "milestone_out_of_range", "1.due"),
    ],
)
def test_bad_milestones_at_opening_are_refused_naming_the_field(
    milestones: tuple[Milestone, ...], code: str, path: str
) -> None:
    cmd = open_case(kind=CaseKind.LONG_TERM, deadline=DEADLINE, milestones=milestones)
    with pytest.raises(InvalidCommand) as refused:
        decide(None, cmd, NOW)
    assert refused.value.code == code
    assert refused.value.message_en.startswith(f"milestones.{path}: ")
    assert refused.value.message_zh.startswith(f"milestones.{path}：")


def test_a_long_term_case_opens_with_its_milestones_in_order() -> None:
    case = long_term(M1, M2, M3).case
    assert [(m.milestone_id, m.due) for m in case.milestones] == [
        ("m1", M1.due),
        ("m2", M2.due),
        ("m3", M3.due),
    ]


# -- changing them ----------------------------------------------------------------------


def test_a_supervisor_moves_a_milestone_and_adds_one_with_a_reason() -> None:
    history = long_term()
    moved = M2.model_copy(update={"due": date(2025, 9, 30)})
    [event] = history.do(set_to(M1, moved, M3, reason="招标延后"))
    assert isinstance(event, MilestonesSet)
    assert event.milestones == (M1, moved, M3)
    assert event.previous_milestones == (M1, M2)
    assert event.reason == "招标延后"
    assert [(m.milestone_id, m.due) for m in history.case.milestones] == [
        ("m1", M1.due),
        ("m2", moved.due),
        ("m3", M3.due),
    ]


@pytest.mark.parametrize("actor", [UNIT, OTHER_UNIT, SYSTEM])
def test_only_a_supervisor_sets_milestones(actor: Actor) -> None:
    command = SetMilestones(actor=actor, milestones=(M1, M3), reason="r")
    assert isinstance(refusal(long_term(), command), PermissionDenied)


def test_an_inspector_sets_nothing() -> None:
    command = SetMilestones(actor=INSPECTOR, milestones=(M1, M3), reason="r")
    assert refusal(long_term(), command).code == "inspector_read_only"


def test_milestones_of_a_closed_or_withdrawn_case_cannot_change() -> None:
    history = long_term()
    history.do(WithdrawCase(actor=SUPERVISOR, reason="误报"))
    refused = refusal(history, set_to(M1, M3))
    assert isinstance(refused, InvalidState)
    assert refused.code == "case_not_active"


def test_a_time_limited_case_gets_no_milestones() -> None:
    refused = refusal(opened(), set_to(M1))
    assert refused.code == "milestones_only_long_term"


def test_a_long_term_case_keeps_at_least_one_milestone() -> None:
    assert refusal(long_term(), set_to()).code == "milestones_required"


def test_the_same_list_again_is_refused() -> None:
    assert refusal(long_term(), set_to(M1, M2)).code == "milestones_unchanged"


def test_a_reported_milestone_cannot_be_moved_renamed_or_removed() -> None:
    history = long_term()
    history.do(ReportMilestone(actor=UNIT, milestone_id="m1", text="排查完成"))
    moved = refusal(history, set_to(M1.model_copy(update={"due": date(2025, 5, 10)}), M2))
    assert (moved.code, moved.message_en.split(":")[0]) == (
        "reported_milestone_changed",
        "milestones.0.due",
    )
    renamed = refusal(history, set_to(M1.model_copy(update={"title": "改名"}), M2))
    assert (renamed.code, renamed.message_en.split(":")[0]) == (
        "reported_milestone_changed",
        "milestones.0.title",
    )
    assert refusal(history, set_to(M2)).code == "reported_milestone_removed"
    # the reported one kept as it was, the others may change
    history.do(set_to(M1, M3))
    assert [m.reported for m in history.case.milestones] == [True, False]


def test_a_missed_milestone_kept_as_it_was_may_stay_in_the_past() -> None:
    history = long_term()
    late = at(2025, 5, 6)
    history.do(MarkMilestoneDue(actor=SYSTEM, milestone_id="m1"), late)
    history.do(
        RaiseWarning(actor=SYSTEM, reason=WarningReason.BEHIND_MILESTONE, milestone_id="m1"), late
    )
    assert traffic_light(history.case, late) is TrafficLight.YELLOW
    # kept: its marks stay and so does the light
    history.do(set_to(M1, M2, M3), late)
    assert history.case.milestones[0].warned
    assert traffic_light(history.case, late) is TrafficLight.YELLOW
    # a new milestone in the past is refused
    past = Milestone(milestone_id="m0", title="补录", due=date(2025, 4, 1))
    assert refusal(history, set_to(past, M1, M2), late).code == "milestone_out_of_range"
    # moved into the future, it starts again: green, and its timers are planned anew
    moved = M1.model_copy(update={"due": date(2025, 6, 30)})
    history.do(set_to(moved, M2, M3), late)
    first = history.case.milestones[0]
    assert (first.due, first.due_marked, first.warned) == (moved.due, False, False)
    assert traffic_light(history.case, late) is TrafficLight.GREEN
    due = [s.due for s in planned_steps(history.case) if isinstance(s.command, MarkMilestoneDue)]
    assert due == [moved.due, M2.due, M3.due]


def test_a_milestone_set_event_round_trips_and_folds_back() -> None:
    history = long_term()
    history.do(set_to(M1, M2.model_copy(update={"due": date(2025, 9, 1)}), M3))
    event = history.events[-1]
    data = json.loads(json.dumps(event.model_dump(mode="json")))
    assert event_from_json("MilestonesSet", 1, data) == event
    text = json.dumps(data, ensure_ascii=False)
    assert event_from_json_text("MilestonesSet", 1, text) == event
    assert fold(history.events) == history.case


def test_moving_the_next_milestone_moves_the_next_timer() -> None:
    history = long_term()
    before = next(s.due for s in planned_steps(history.case))
    assert before == M1.due
    later = M1.model_copy(update={"due": M1.due + timedelta(days=14)})
    history.do(set_to(later, M2))
    assert next(s.due for s in planned_steps(history.case)) == later.due
