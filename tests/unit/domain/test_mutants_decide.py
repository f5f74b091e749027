"""``decide`` itself: the unknown command, the order of the checks, the context it builds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.case import decide
from domain.commands import Command, SetDeadline, SubmitPlan
from domain.errors import InvalidCommand, InvalidState, PermissionDenied
from domain.events import DeadlineSet, FindingRecorded
from domain.vocabulary import Actor, Role

from .builders import INSPECTOR, NOW, OTHER_UNIT, SUPERVISOR, UNIT, open_case, opened


class Unheard(Command):
    pass


def test_an_unknown_command_is_refused_by_name() -> None:
    with pytest.raises(InvalidCommand) as raised:
        decide(None, Unheard(actor=SUPERVISOR), NOW)
    e = raised.value
    assert e.code == "unknown_command"
    assert e.message_zh == "不支持的指令：Unheard"
    assert e.message_en == "unsupported command: Unheard"


def test_role_is_checked_with_the_commands_words() -> None:
    with pytest.raises(PermissionDenied) as raised:
        decide(None, open_case(actor=UNIT), NOW)
    e = raised.value
    assert e.code == "supervisor_only"
    assert e.message_zh == "只有督查部门可以立项整改"
    assert e.message_en == "only a supervisor may open a case"


def test_inspector_before_anything_else() -> None:
    with pytest.raises(PermissionDenied) as raised:
        decide(None, open_case(actor=INSPECTOR), NOW)
    assert raised.value.code == "inspector_read_only"


def test_own_unit_is_checked_when_there_is_a_case() -> None:
    state = opened().case
    with pytest.raises(PermissionDenied) as raised:
        decide(state, SubmitPlan(actor=OTHER_UNIT, plan="方案"), NOW)
    assert raised.value.code == "not_own_unit"


def test_no_case_reaches_the_handler() -> None:
    with pytest.raises(InvalidState) as raised:
        decide(None, SubmitPlan(actor=UNIT, plan="方案"), NOW)
    assert raised.value.code == "no_case"


def test_the_context_carries_now_and_the_business_date_in_china() -> None:
    # 2025-03-03 20:00 UTC is already 2025-03-04 in China.
    late = datetime(2025, 3, 3, 20, 0, tzinfo=UTC)
    events = decide(None, open_case(), late)
    recorded = events[0]
    assert isinstance(recorded, FindingRecorded)
    assert recorded.occurred_at == late
    state = opened().case
    # Tomorrow by the Chinese date is no longer in the future.
    with pytest.raises(InvalidCommand) as raised:
        decide(state, SetDeadline(actor=SUPERVISOR, deadline=date(2025, 3, 4), reason="调整"), late)
    assert raised.value.code == "deadline_not_in_future"
    moved = decide(
        state,
        SetDeadline(actor=SUPERVISOR, deadline=date(2025, 3, 5), reason="调整"),
        late - timedelta(0),
    )
    assert isinstance(moved[0], DeadlineSet)
    assert moved[0].occurred_at == late
    assert moved[0].deadline == date(2025, 3, 5)


def test_system_or_supervisor_may_recompute() -> None:
    other = Actor(user_id="x", role=Role.UNIT, unit_id="unit-a")
    from domain.commands import RecomputeDeadline

    with pytest.raises(PermissionDenied) as raised:
        decide(opened().case, RecomputeDeadline(actor=other), NOW)
    assert raised.value.code == "supervisor_or_system_only"
