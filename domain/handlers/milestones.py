"""阶段节点: the milestones of a long-term case (长期整改), when opened and when changed.

The rules of a list of milestones, checked in ``milestone_problems`` (the API also
asks it, to name the field of each problem):

- only a long-term case has milestones, and it has at least one;
- ids are unique, and the due dates strictly increase in the order given;
- each is due by the case's deadline and, unless it is kept as it was, after today;
- a reported milestone is kept as it was (same id, title and date): it cannot be
  removed, moved or renamed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from domain import guards
from domain.chinese_dates import zh_date
from domain.commands import SetMilestones
from domain.context import Context
from domain.errors import InvalidCommand
from domain.events import Event, MilestonesSet
from domain.state import CaseState, MilestoneState
from domain.values import Milestone
from domain.vocabulary import CaseKind

__all__ = [
    "MilestoneProblem",
    "check_milestones",
    "kind_problem",
    "milestone_problems",
    "set_milestones",
]


@dataclass(frozen=True, slots=True)
class MilestoneProblem:
    """One broken rule: where (``milestones``, ``milestones.1.due`` …), a code, messages."""

    path: str
    code: str
    message_zh: str
    message_en: str

    def error(self) -> InvalidCommand:
        return InvalidCommand(
            self.code, f"{self.path}：{self.message_zh}", f"{self.path}: {self.message_en}"
        )


def kind_problem(kind: CaseKind, milestones: Sequence[Milestone]) -> MilestoneProblem | None:
    if kind is not CaseKind.LONG_TERM and milestones:
        return MilestoneProblem(
            "milestones",
            "milestones_only_long_term",
            "只有长期整改事项设置阶段节点",
            "only a long-term case has milestones",
        )
    if kind is CaseKind.LONG_TERM and not milestones:
        return MilestoneProblem(
            "milestones",
            "milestones_required",
            "长期整改须设置阶段节点",
            "a long-term case needs milestones",
        )
    return None


def milestone_problems(
    milestones: Sequence[Milestone],
    *,
    deadline: date | None,
    today: date | None,
    current: Sequence[MilestoneState] = (),
) -> list[MilestoneProblem]:
    """Every broken rule of the list, in order. ``None`` skips a check (the API checks
    the list without a clock, and without the deadline when it is the kind's default);
    ``current``: the case's milestones the list replaces."""
    problems: list[MilestoneProblem] = []
    now = {m.milestone_id: m for m in current}
    seen: set[str] = set()
    for i, m in enumerate(milestones):
        at = f"milestones.{i}"
        if m.milestone_id in seen:
            problems.append(
                MilestoneProblem(
                    f"{at}.milestone_id",
                    "milestone_ids_repeat",
                    f"节点编号 {m.milestone_id} 重复",
                    f"milestone id {m.milestone_id} repeats",
                )
            )
        seen.add(m.milestone_id)
        if i > 0 and m.due <= milestones[i - 1].due:
            before = milestones[i - 1].due
            problems.append(
                MilestoneProblem(
                    f"{at}.due",
                    "milestones_not_in_order",
                    f"节点时间须依次递增：{zh_date(m.due)} 不晚于上一节点的 {zh_date(before)}",
                    f"due dates must increase: {m.due} is not after the previous {before}",
                )
            )
        old = now.get(m.milestone_id)
        if old is not None and old.reported:
            if (m.title, m.due) != (old.title, old.due):
                problems.append(
                    MilestoneProblem(
                        f"{at}.due" if m.due != old.due else f"{at}.title",
                        "reported_milestone_changed",
                        f"节点 {m.milestone_id} 已报送，不能修改"
                        f"（{old.title}，{zh_date(old.due)}）",
                        f"milestone {m.milestone_id} is reported and cannot change"
                        f" ({old.title}, {old.due})",
                    )
                )
            continue
        kept = old is not None and old.due == m.due
        if today is not None and m.due <= today and not kept:
            problems.append(
                MilestoneProblem(
                    f"{at}.due",
                    "milestone_out_of_range",
                    f"节点“{m.title}”的时间 {zh_date(m.due)} 须晚于今天 {zh_date(today)}",
                    f"milestone {m.milestone_id} due {m.due} must be after today ({today})",
                )
            )
        if deadline is not None and m.due > deadline:
            problems.append(
                MilestoneProblem(
                    f"{at}.due",
                    "milestone_out_of_range",
                    f"节点“{m.title}”的时间 {zh_date(m.due)} 不得晚于整改期限 {zh_date(deadline)}",
                    f"milestone {m.milestone_id} due {m.due} must be by the deadline {deadline}",
                )
            )
    for old in current:
        if old.reported and old.milestone_id not in seen:
            problems.append(
                MilestoneProblem(
                    "milestones",
                    "reported_milestone_removed",
                    f"节点 {old.milestone_id} 已报送，不能删除",
                    f"milestone {old.milestone_id} is reported and cannot be removed",
                )
            )
    return problems


def check_milestones(
    kind: CaseKind,
    milestones: Sequence[Milestone],
    deadline: date,
    today: date,
    current: Sequence[MilestoneState] = (),
) -> None:
    """Raises the first broken rule as an ``InvalidCommand``."""
    problem = kind_problem(kind, milestones)
    if problem is None:
        found = milestone_problems(milestones, deadline=deadline, today=today, current=current)
        problem = found[0] if found else None
    if problem is not None:
        raise problem.error()


def set_milestones(state: CaseState | None, cmd: SetMilestones, ctx: Context) -> list[Event]:
    case = guards.ensure_case(state)
    guards.ensure_active(case)
    assert case.deadline is not None  # an active case has a deadline
    if case.kind is not CaseKind.LONG_TERM:
        raise InvalidCommand(
            "milestones_only_long_term",
            "只有长期整改事项设置阶段节点",
            "only a long-term case has milestones",
        )
    check_milestones(case.kind, cmd.milestones, case.deadline, ctx.today, case.milestones)
    previous = tuple(
        Milestone(milestone_id=m.milestone_id, title=m.title, due=m.due) for m in case.milestones
    )
    if cmd.milestones == previous:
        raise InvalidCommand(
            "milestones_unchanged", "阶段节点未变化", "the milestones are unchanged"
        )
    return [
        MilestonesSet(
            occurred_at=ctx.now,
            milestones=cmd.milestones,
            previous_milestones=previous,
            reason=cmd.reason,
        )
    ]
