"""A date in a Chinese refusal is written 2025年4月30日, never 2025-04-30; English keeps ISO.

Each refusal of the domain that names a date is driven here, and both of its messages
are checked: the Chinese one has the 年月日 form (no zero padding) and no ISO date, the
English one has the ISO date and no 年月日.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from domain.chinese_dates import zh_date
from domain.commands import (
    Command,
    GrantExtension,
    ReopenCase,
    ReportMilestone,
    RequestExtension,
    SetMilestones,
    VerifyClosure,
)
from domain.errors import DomainError
from domain.policy import Policy
from domain.values import Milestone
from domain.vocabulary import CaseKind
from domain.workdays import CalendarYear, InvalidRule

from .builders import DEADLINE, NOW, SUPERVISOR, UNIT, History, at, opened, pending_closure

ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
LONG_DEADLINE = date(2025, 12, 31)
M1 = Milestone(milestone_id="m1", title="完成排查", due=date(2025, 4, 30))
M2 = Milestone(milestone_id="m2", title="一期改造", due=date(2025, 8, 31))


@pytest.mark.parametrize(
    ("day", "written"),
    [
        (date(2026, 12, 4), "2026年12月4日"),
        (date(2027, 1, 1), "2027年1月1日"),
        (date(2025, 10, 31), "2025年10月31日"),
        (datetime(2025, 3, 3, 9, tzinfo=UTC), "2025年3月3日"),
    ],
)
def test_a_date_is_written_the_chinese_way_without_zero_padding(day: date, written: str) -> None:
    assert zh_date(day) == written


def _refusal(history: History, command: Command, now: datetime = NOW) -> DomainError:
    with pytest.raises(DomainError) as raised:
        history.do(command, now)
    return raised.value


def _long_term() -> History:
    return opened(kind=CaseKind.LONG_TERM, deadline=LONG_DEADLINE, milestones=(M1, M2))


def _set_to(*milestones: Milestone) -> SetMilestones:
    return SetMilestones(actor=SUPERVISOR, milestones=milestones, reason="工程顺延")


def deadline_not_after_today_on_opening() -> DomainError:
    with pytest.raises(DomainError) as raised:
        opened(deadline=date(2025, 3, 3))  # today, 2025-03-03
    return raised.value


def extension_requested_after_the_deadline() -> DomainError:
    ask = RequestExtension(actor=UNIT, reason="汛期", proposed_deadline=date(2025, 5, 30))
    return _refusal(opened(), ask, at(2025, 5, 1))


def proposed_deadline_not_after_the_current_one() -> DomainError:
    ask = RequestExtension(actor=UNIT, reason="汛期", proposed_deadline=DEADLINE)
    return _refusal(opened(), ask)


def granted_deadline_not_after_the_current_one() -> DomainError:
    history = opened()
    history.do(RequestExtension(actor=UNIT, reason="汛期", proposed_deadline=date(2025, 5, 30)))
    return _refusal(history, GrantExtension(actor=SUPERVISOR, new_deadline=DEADLINE))


def milestone_dues_not_increasing() -> DomainError:
    return _refusal(_long_term(), _set_to(M2, M1.model_copy(update={"milestone_id": "m3"})))


def milestone_due_not_after_today() -> DomainError:
    return _refusal(_long_term(), _set_to(M1.model_copy(update={"due": date(2025, 3, 3)}), M2))


def milestone_due_after_the_deadline() -> DomainError:
    late = M2.model_copy(update={"due": date(2026, 1, 1)})
    return _refusal(_long_term(), _set_to(M1, late))


def reported_milestone_changed() -> DomainError:
    history = _long_term()
    history.do(ReportMilestone(actor=UNIT, milestone_id="m1", text="排查完毕"))
    return _refusal(history, _set_to(M1.model_copy(update={"due": date(2025, 5, 9)}), M2))


def reopened_after_the_look_back_window() -> DomainError:
    history = pending_closure(opened(policy=Policy(look_back_days=10)))
    history.do(VerifyClosure(actor=SUPERVISOR))  # closed 2025-03-03: window ends 03-13
    return _refusal(history, ReopenCase(actor=SUPERVISOR, reason="回头看发现反弹"), at(2025, 3, 14))


# refusal, its code, the dates it names
REFUSALS: list[tuple[Callable[[], DomainError], str, tuple[date, ...]]] = [
    (deadline_not_after_today_on_opening, "deadline_not_in_future", (date(2025, 3, 3),)),
    (extension_requested_after_the_deadline, "extension_after_deadline", (DEADLINE,)),
    (proposed_deadline_not_after_the_current_one, "extension_not_later", (DEADLINE,)),
    (granted_deadline_not_after_the_current_one, "extension_not_later", (DEADLINE,)),
    (milestone_dues_not_increasing, "milestones_not_in_order", (M1.due, M2.due)),
    (milestone_due_not_after_today, "milestone_out_of_range", (date(2025, 3, 3),)),
    (milestone_due_after_the_deadline, "milestone_out_of_range", (date(2026, 1, 1), LONG_DEADLINE)),
    (reported_milestone_changed, "reported_milestone_changed", (M1.due,)),
    (reopened_after_the_look_back_window, "look_back_expired", (date(2025, 3, 13),)),
]


@pytest.mark.parametrize(
    ("drive", "code", "days"), REFUSALS, ids=[drive.__name__ for drive, _, _ in REFUSALS]
)
def test_a_chinese_refusal_writes_its_dates_in_chinese_and_the_english_one_in_iso(
    drive: Callable[[], DomainError], code: str, days: tuple[date, ...]
) -> None:
    error = drive()
    assert error.code == code
    assert not ISO.search(error.message_zh), error.message_zh
    for day in days:
        assert f"{day.year}年{day.month}月{day.day}日" in error.message_zh
        assert day.isoformat() in error.message_en
    assert "年" not in error.message_en


def test_a_calendar_year_names_its_stray_days_in_chinese_and_in_iso() -> None:
    stray = date(2028, 1, 1)
    both = date(2027, 10, 8)
    for year, reason in [
        (CalendarYear.model_construct(year=2027, holidays=frozenset({stray})), stray),
        (
            CalendarYear.model_construct(
                year=2027, holidays=frozenset({both}), workdays=frozenset({both})
            ),
            both,
        ),
    ]:
        with pytest.raises(ValidationError) as raised:
            CalendarYear.model_validate(year.model_dump())
        rule = raised.value.errors()[0]["ctx"]["error"]
        assert isinstance(rule, InvalidRule)
        assert f"{reason.year}年{reason.month}月{reason.day}日" in rule.zh
        assert not ISO.search(rule.zh), rule.zh
        assert reason.isoformat() in rule.en
