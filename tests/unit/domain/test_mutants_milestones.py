"""domain/handlers/milestones.py: every problem of a milestone list, exactly, and the
refusals and event of ``SetMilestones``."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.case import decide
from domain.commands import SetMilestones
from domain.errors import DomainError, InvalidCommand
from domain.events import MilestonesSet
from domain.handlers.milestones import (
    MilestoneProblem,
    check_milestones,
    kind_problem,
    milestone_problems,
)
from domain.state import CaseState, MilestoneState
from domain.values import Milestone
from domain.vocabulary import CaseKind

from .builders import NOW, SUPERVISOR, opened

DEADLINE = date(2025, 12, 31)
TODAY = NOW.date()  # 2025-03-03
A = Milestone(milestone_id="m1", title="完成排查", due=date(2025, 4, 30))
B = Milestone(milestone_id="m2", title="一期改造", due=date(2025, 8, 31))
C = Milestone(milestone_id="m3", title="全部完成", due=date(2025, 11, 30))

ONLY_LONG_TERM = MilestoneProblem(
    "milestones",
    "milestones_only_long_term",
    "只有长期整改事项设置阶段节点",
    "only a long-term case has milestones",
)
REQUIRED = MilestoneProblem(
    "milestones",
    "milestones_required",
    "长期整改须设置阶段节点",
    "a long-term case needs milestones",
)


def due(milestone: Milestone, day: date) -> Milestone:
    return milestone.model_copy(update={"due": day})


def state_of(milestone: Milestone, *, reported: bool = False) -> MilestoneState:
    return MilestoneState(
        milestone_id=milestone.milestone_id,
        title=milestone.title,
        due=milestone.due,
        reported=reported,
    )


def triple(error: DomainError) -> tuple[type, str, str, str]:
    return (type(error), error.code, error.message_zh, error.message_en)


def problems(milestones: tuple[Milestone, ...], **kwargs: Any) -> list[MilestoneProblem]:
    kwargs.setdefault("deadline", None)
    kwargs.setdefault("today", None)
    return milestone_problems(milestones, **kwargs)


def written(day: date) -> str:
    """A date as a Chinese sentence writes it (the oracle, spelled out here)."""
    return f"{day.year}年{day.month}月{day.day}日"


def not_after_today(i: int, m: Milestone, today: date) -> MilestoneProblem:
    return MilestoneProblem(
        f"milestones.{i}.due",
        "milestone_out_of_range",
        f"节点“{m.title}”的时间 {written(m.due)} 须晚于今天 {written(today)}",
        f"milestone {m.milestone_id} due {m.due} must be after today ({today})",
    )


# --- MilestoneProblem, kind_problem -------------------------------------------------


def test_a_problem_becomes_an_error_prefixed_with_its_path() -> None:
    problem = MilestoneProblem("milestones.1.due", "some_code", "中文", "english")
    assert triple(problem.error()) == (
        InvalidCommand,
        "some_code",
        "milestones.1.due：中文",
        "milestones.1.due: english",
    )


@pytest.mark.parametrize(
    ("kind", "milestones", "expected"),
    [
        (CaseKind.TIME_LIMITED, (A,), ONLY_LONG_TERM),
        (CaseKind.IMMEDIATE, (A, B), ONLY_LONG_TERM),
        (CaseKind.LONG_TERM, (), REQUIRED),
        (CaseKind.LONG_TERM, (A,), None),
        (CaseKind.TIME_LIMITED, (), None),
        (CaseKind.IMMEDIATE, (), None),
    ],
)
def test_kind_problem(
    kind: CaseKind, milestones: tuple[Milestone, ...], expected: MilestoneProblem | None
) -> None:
    assert kind_problem(kind, milestones) == expected


# --- milestone_problems ---------------------------------------------------------------


def test_a_good_list_has_no_problem_with_or_without_clock_and_deadline() -> None:
    assert problems((A,)) == []
    assert problems((A, B, C)) == []
    assert problems((A, B, C), deadline=DEADLINE, today=TODAY) == []


def test_a_repeated_id_is_named_at_its_second_place_only() -> None:
    again = Milestone(milestone_id="m1", title="复查", due=date(2025, 5, 1))
    assert problems((A, again, B)) == [
        MilestoneProblem(
            "milestones.1.milestone_id",
            "milestone_ids_repeat",
            "节点编号 m1 重复",
            "milestone id m1 repeats",
        )
    ]


def test_dates_must_strictly_increase_compared_with_the_one_just_before() -> None:
    assert problems((B, A)) == [
        MilestoneProblem(
            "milestones.1.due",
            "milestones_not_in_order",
            "节点时间须依次递增：2025年4月30日 不晚于上一节点的 2025年8月31日",
            "due dates must increase: 2025-04-30 is not after the previous 2025-08-31",
        )
    ]
    # the same day twice is not increasing
    assert [p.path for p in problems((A, due(B, A.due)))] == ["milestones.1.due"]
    # the third compared with the second (not with the first)
    assert problems((A, B, due(C, date(2025, 6, 30)))) == [
        MilestoneProblem(
            "milestones.2.due",
            "milestones_not_in_order",
            "节点时间须依次递增：2025年6月30日 不晚于上一节点的 2025年8月31日",
            "due dates must increase: 2025-06-30 is not after the previous 2025-08-31",
        )
    ]


def test_a_new_milestone_is_due_after_today() -> None:
    today = A.due
    assert problems((A, B), today=today) == [not_after_today(0, A, today)]
    assert problems((A, B), today=date(2025, 4, 29)) == []


def test_every_milestone_is_due_by_the_deadline() -> None:
    assert problems((A, B), deadline=B.due) == []
    assert problems((A, B), deadline=date(2025, 8, 30)) == [
        MilestoneProblem(
            "milestones.1.due",
            "milestone_out_of_range",
            "节点“一期改造”的时间 2025年8月31日 不得晚于整改期限 2025年8月30日",
            "milestone m2 due 2025-08-31 must be by the deadline 2025-08-30",
        )
    ]


def test_an_unreported_milestone_kept_on_its_day_may_be_past() -> None:
    today = date(2025, 5, 6)
    current = (state_of(A), state_of(B))
    assert problems((A, B), today=today, current=current) == []
    # moved, even by a day, it is new again and must be after today
    moved = due(A, date(2025, 5, 1))
    assert problems((moved, B), today=today, current=current) == [not_after_today(0, moved, today)]
    # an unreported one may be removed
    assert problems((B,), today=today, current=current) == []


def test_a_reported_milestone_cannot_change() -> None:
    current = (state_of(A, reported=True), state_of(B))
    moved = due(A, date(2025, 5, 10))
    changed_zh = "节点 m1 已报送，不能修改（完成排查，2025年4月30日）"
    changed_en = "milestone m1 is reported and cannot change (完成排查, 2025-04-30)"
    assert problems((moved, B), current=current) == [
        MilestoneProblem("milestones.0.due", "reported_milestone_changed", changed_zh, changed_en)
    ]
    renamed = A.model_copy(update={"title": "改名"})
    assert problems((renamed, B), current=current) == [
        MilestoneProblem("milestones.0.title", "reported_milestone_changed", changed_zh, changed_en)
    ]
    both = renamed.model_copy(update={"due": moved.due})
    assert [p.path for p in problems((both, B), current=current)] == ["milestones.0.due"]


def test_a_reported_milestone_kept_is_not_checked_but_the_next_ones_are() -> None:
    today = date(2025, 6, 1)
    current = (state_of(A, reported=True),)
    assert problems((A,), today=today, deadline=date(2025, 4, 1), current=current) == []
    late = due(B, date(2026, 1, 5))
    assert [(p.path, p.code) for p in problems((A, late), deadline=DEADLINE, current=current)] == [
        ("milestones.1.due", "milestone_out_of_range")
    ]


def test_a_reported_milestone_cannot_be_removed() -> None:
    current = (state_of(A, reported=True), state_of(B))
    assert problems((C,), current=current) == [
        MilestoneProblem(
            "milestones",
            "reported_milestone_removed",
            "节点 m1 已报送，不能删除",
            "milestone m1 is reported and cannot be removed",
        )
    ]
    assert problems((A, C), current=current) == []


def test_every_problem_is_listed_in_order() -> None:
    today = date(2025, 5, 1)
    early = due(C, date(2025, 4, 1))
    late = Milestone(milestone_id="m1", title="复查", due=date(2026, 2, 1))
    found = problems(
        (B, early, late),
        today=today,
        deadline=DEADLINE,
        current=(state_of(A, reported=True),),
    )
    assert [(p.path, p.code) for p in found] == [
        ("milestones.1.due", "milestones_not_in_order"),
        ("milestones.1.due", "milestone_out_of_range"),
        ("milestones.2.due", "reported_milestone_changed"),
    ]
    assert [(p.path, p.code) for p in problems((A, A), deadline=date(2025, 4, 1))] == [
        ("milestones.0.due", "milestone_out_of_range"),
        ("milestones.1.milestone_id", "milestone_ids_repeat"),
        ("milestones.1.due", "milestones_not_in_order"),
        ("milestones.1.due", "milestone_out_of_range"),
    ]


# --- check_milestones -----------------------------------------------------------------


def test_check_raises_the_first_problem_only() -> None:
    check_milestones(CaseKind.LONG_TERM, (A, B), DEADLINE, TODAY)  # nothing to raise
    past = due(A, TODAY)
    late = due(B, date(2026, 1, 5))
    with pytest.raises(InvalidCommand) as raised:
        check_milestones(CaseKind.LONG_TERM, (past, late), DEADLINE, TODAY)
    assert triple(raised.value) == (
        InvalidCommand,
        "milestone_out_of_range",
        "milestones.0.due：节点“完成排查”的时间 2025年3月3日 须晚于今天 2025年3月3日",
        "milestones.0.due: milestone m1 due 2025-03-03 must be after today (2025-03-03)",
    )


def test_check_uses_the_kind_first_then_deadline_today_and_current() -> None:
    with pytest.raises(InvalidCommand) as raised:
        check_milestones(CaseKind.TIME_LIMITED, (due(A, TODAY),), DEADLINE, TODAY)
    assert raised.value.code == "milestones_only_long_term"
    with pytest.raises(InvalidCommand) as raised:
        check_milestones(CaseKind.LONG_TERM, (), DEADLINE, TODAY)
    assert raised.value.code == "milestones_required"
    with pytest.raises(InvalidCommand) as raised:
        check_milestones(CaseKind.LONG_TERM, (A, B), date(2025, 8, 30), TODAY)
    assert raised.value.message_en.startswith("milestones.1.due: ")
    with pytest.raises(InvalidCommand) as raised:
        check_milestones(CaseKind.LONG_TERM, (C,), DEADLINE, TODAY, (state_of(A, reported=True),))
    assert raised.value.code == "reported_milestone_removed"
    # the kept one in the past passes only because ``current`` says it is kept
    check_milestones(CaseKind.LONG_TERM, (A,), DEADLINE, date(2025, 5, 6), (state_of(A),))


# --- set_milestones -------------------------------------------------------------------


def long_term() -> CaseState:
    return opened(kind=CaseKind.LONG_TERM, deadline=DEADLINE, milestones=(A, B)).case


def refused(state: CaseState, *milestones: Milestone) -> DomainError:
    with pytest.raises(DomainError) as raised:
        decide(state, SetMilestones(actor=SUPERVISOR, milestones=milestones, reason="顺延"), NOW)
    return raised.value


@pytest.mark.parametrize("milestones", [(), (A,)])
def test_a_case_not_long_term_is_refused_without_a_path(milestones: tuple[Milestone, ...]) -> None:
    assert triple(refused(opened().case, *milestones)) == (
        InvalidCommand,
        "milestones_only_long_term",
        "只有长期整改事项设置阶段节点",
        "only a long-term case has milestones",
    )


def test_the_same_list_is_refused_with_both_messages() -> None:
    assert triple(refused(long_term(), A, B)) == (
        InvalidCommand,
        "milestones_unchanged",
        "阶段节点未变化",
        "the milestones are unchanged",
    )


def test_set_checks_against_the_cases_deadline() -> None:
    late = due(C, date(2026, 1, 1))
    assert triple(refused(long_term(), A, B, late)) == (
        InvalidCommand,
        "milestone_out_of_range",
        "milestones.2.due：节点“全部完成”的时间 2026年1月1日 不得晚于整改期限 2025年12月31日",
        "milestones.2.due: milestone m3 due 2026-01-01 must be by the deadline 2025-12-31",
    )
    # due on the deadline itself is allowed
    [event] = decide(
        long_term(),
        SetMilestones(actor=SUPERVISOR, milestones=(A, B, due(C, DEADLINE)), reason="顺延"),
        NOW,
    )
    assert isinstance(event, MilestonesSet)


def test_set_gives_one_whole_event_with_the_previous_list() -> None:
    state = long_term()
    state = state.model_copy(
        update={"milestones": (state_of(A, reported=True), state.milestones[1])}
    )
    command = SetMilestones(actor=SUPERVISOR, milestones=(A, C), reason="合并二期")
    assert decide(state, command, NOW) == [
        MilestonesSet(
            occurred_at=NOW, milestones=(A, C), previous_milestones=(A, B), reason="合并二期"
        )
    ]
