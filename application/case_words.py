"""A case in words, for people: why its light is what it is, how many working days
are left, and what is due next. The console shows these; the rules are the domain's
(``domain.traffic_light``, the working-day calendar, the unit's class's policy)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain.chinese_dates import zh_date
from domain.policy import Policy
from domain.state import CaseState
from domain.vocabulary import CaseStatus, TrafficLight

__all__ = ["DueItem", "Words", "due_items", "light_reason", "working_days_left"]


@dataclass(frozen=True, slots=True)
class Words:
    zh: str
    en: str

    def __call__(self, language: str) -> str:
        return self.en if language == "en" else self.zh


@dataclass(frozen=True, slots=True)
class DueItem:
    what: Words
    due: date | None
    urgent: bool  # overdue, or within the yellow window


def working_days_left(deadline: date | None, today: date, policy: Policy) -> int | None:
    """Working days from today to the deadline (negative: that many past it)."""
    if deadline is None:
        return None
    return policy.working_calendar().working_days_between(today, deadline)


def light_reason(state: CaseState, light: TrafficLight, now: datetime, policy: Policy) -> Words:
    today = policy.today(now)
    left = working_days_left(state.deadline, today, policy)
    if state.status is CaseStatus.CLOSED:
        return Words("已销号", "closed")
    if state.status is CaseStatus.WITHDRAWN:
        return Words("已撤销", "withdrawn")
    if state.status is CaseStatus.MERGED:
        return Words(f"已并入案件 {state.merged_into}", f"merged into case {state.merged_into}")
    if state.deadline is None or left is None:
        return Words("尚未立项", "not opened yet")
    if light is TrafficLight.RED:
        return Words(
            f"已超过整改期限 {-left} 个工作日，尚未销号",
            f"{-left} working days past the deadline and not closed",
        )
    if light is TrafficLight.YELLOW:
        if today > state.deadline:
            return Words(
                "已过整改期限，销号申请待验收", "past the deadline, closure awaits verification"
            )
        behind = [m for m in state.milestones if not m.reported and today > m.due]
        if behind:
            m = behind[0]
            return Words(
                f"阶段节点「{m.title}」已于 {zh_date(m.due)} 到期未报告",
                f"milestone “{m.title}” was due on {m.due} and is not reported",
            )
        return Words(
            f"距整改期限仅剩 {left} 个工作日（黄灯阈值 {policy.yellow_working_days} 个工作日）",
            f"{left} working days to the deadline (yellow at {policy.yellow_working_days})",
        )
    return Words(
        f"按计划推进：距整改期限还剩 {left} 个工作日",
        f"on track: {left} working days to the deadline",
    )


def due_items(state: CaseState, now: datetime, policy: Policy, within: int = 5) -> list[DueItem]:
    """What the responsible unit has to do next, most pressing first."""
    today = policy.today(now)
    items: list[DueItem] = []
    left = working_days_left(state.deadline, today, policy)
    urgent = left is not None and left <= policy.yellow_working_days
    if state.status is CaseStatus.CLOSURE_PENDING:
        return [
            DueItem(Words("销号申请待督查部门验收", "closure awaits verification"), None, False)
        ]
    if state.status is not CaseStatus.OPEN:
        return []
    if not state.plan_submitted:
        items.append(DueItem(Words("提交整改方案", "submit the plan"), state.deadline, urgent))
    if state.closure_rejections:
        items.append(
            DueItem(
                Words(
                    f"销号申请被退回（{state.closure_rejections} 次），整改到位后重新申请",
                    f"closure sent back ({state.closure_rejections}×): fix and submit again",
                ),
                state.deadline,
                urgent,
            )
        )
    for m in state.milestones:
        if m.reported:
            continue
        m_left = working_days_left(m.due, today, policy)
        if m_left is not None and m_left <= within:
            items.append(
                DueItem(
                    Words(f"报告阶段节点「{m.title}」", f"report milestone “{m.title}”"),
                    m.due,
                    m_left <= 0,
                )
            )
    if left is not None and left <= within:
        what = (
            Words(f"已逾期 {-left} 个工作日", f"{-left} working days overdue")
            if left < 0
            else Words(f"整改期限临近：还剩 {left} 个工作日", f"deadline in {left} working days")
        )
        items.append(DueItem(what, state.deadline, True))
    if state.pending_extension is not None:
        items.append(DueItem(Words("延期申请待审批", "extension request pending"), None, False))
    return items
