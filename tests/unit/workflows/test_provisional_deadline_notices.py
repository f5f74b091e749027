"""A deadline counted on a provisional calendar year is said so in the notices about it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest

from activities.outbox_dispatcher.messages import render
from domain.case import decide, fold
from domain.commands import OpenCase, RequestExtension, SubmitPlan
from domain.policy import DEFAULT_POLICY
from domain.vocabulary import Actor, Role, Source
from workflows.notices import notice_for

CST = timezone(timedelta(hours=8))
SUPERVISOR = Actor(user_id="s", role=Role.SUPERVISOR)
UNIT = Actor(user_id="u", role=Role.UNIT, unit_id="unit-1")


@pytest.mark.parametrize(
    ("opened_on", "provisional"), [(date(2031, 1, 6), True), (date(2025, 3, 3), False)]
)
def test_a_notice_carries_whether_the_deadline_was_counted_on_a_provisional_year(
    opened_on: date, provisional: bool
) -> None:
    """No deadline given: the kind's default is counted in working days from the opening
    day; 2031 has no official holidays in the calendar package, 2025 has."""
    at = datetime.combine(opened_on, time(9), CST)
    opening = OpenCase(
        actor=SUPERVISOR,
        finding_id="f-1",
        source=Source.AUDIT,
        title="问题",
        unit_id="unit-1",
        cadre_id="c-1",
    )
    events = decide(None, opening, at, DEFAULT_POLICY)
    events += decide(fold(events), SubmitPlan(actor=UNIT, plan="方案"), at, DEFAULT_POLICY)
    asked = RequestExtension(
        actor=UNIT, reason="汛期施工受限", proposed_deadline=opened_on + timedelta(days=120)
    )
    events += decide(fold(events), asked, at, DEFAULT_POLICY)
    state = fold(events)
    assert state is not None
    assert state.deadline_provisional is provisional
    notice = notice_for(events[-1], "e-1", state, "case-f-1", DEFAULT_POLICY)
    assert notice is not None
    assert notice.deadline_provisional is provisional


def test_the_message_says_the_deadline_may_move() -> None:
    payload = {
        "kind": "reminder",
        "title": "污水处理厂出水超标",
        "unit_name": "某县生态环境局",
        "case_id": "c1",
        "deadline": "2031-03-31",
        "deadline_provisional": True,
        "working_days_left": 3,
    }
    zh = render(payload, "zh-CN", "http://127.0.0.1:8000")
    assert "整改期限：2031年3月31日（按临时工作日历计算" in zh.text
    en = render(payload, "en", "http://127.0.0.1:8000")
    assert "Deadline: 2031-03-31 (counted on a provisional calendar" in en.text
    official = render({**payload, "deadline_provisional": False}, "zh-CN", "http://x")
    assert "临时" not in official.text
