"""Responsibility, deadline and target changes by a supervisor."""

from __future__ import annotations

from datetime import date

import pytest

from domain.commands import (
    AssignResponsibility,
    ReportProgress,
    SetDeadline,
    SetTarget,
    TransferResponsibility,
)
from domain.errors import InvalidCommand
from domain.events import ResponsibilityAssigned, ResponsibilityTransferred, TargetSet
from domain.vocabulary import Actor, Role

from .builders import SUPERVISOR, opened


def test_assigning_a_new_cadre_keeps_the_unit() -> None:
    history = opened()
    events = history.do(
        AssignResponsibility(actor=SUPERVISOR, cadre_id="cadre-2", reason="岗位调整")
    )
    assert isinstance(events[0], ResponsibilityAssigned)
    assert events[0].previous_cadre_id == "cadre-1"
    assert (history.case.unit_id, history.case.cadre_id) == ("unit-a", "cadre-2")


def test_assigning_the_same_cadre_is_refused() -> None:
    with pytest.raises(InvalidCommand) as refused:
        opened().do(AssignResponsibility(actor=SUPERVISOR, cadre_id="cadre-1", reason="x"))
    assert refused.value.code == "same_cadre"


def test_a_transfer_moves_the_case_to_another_unit_and_its_users() -> None:
    history = opened()
    events = history.do(
        TransferResponsibility(
            actor=SUPERVISOR, unit_id="unit-b", cadre_id="cadre-9", reason="职能调整"
        )
    )
    assert isinstance(events[0], ResponsibilityTransferred)
    assert history.case.unit_id == "unit-b"
    new_unit = Actor(user_id="u-b", role=Role.UNIT, unit_id="unit-b")
    assert history.do(SetTarget(actor=SUPERVISOR, target="新目标"))
    assert history.do(ReportProgress(actor=new_unit, text="接手后进展"))


def test_a_transfer_within_the_same_unit_is_refused() -> None:
    with pytest.raises(InvalidCommand) as refused:
        opened().do(
            TransferResponsibility(
                actor=SUPERVISOR, unit_id="unit-a", cadre_id="cadre-2", reason="x"
            )
        )
    assert refused.value.code == "same_unit"


def test_setting_the_target() -> None:
    history = opened()
    assert isinstance(history.do(SetTarget(actor=SUPERVISOR, target="全部清理"))[0], TargetSet)
    assert history.case.target == "全部清理"


def test_setting_the_same_deadline_is_refused() -> None:
    with pytest.raises(InvalidCommand) as refused:
        opened().do(SetDeadline(actor=SUPERVISOR, deadline=date(2025, 4, 30), reason="x"))
    assert refused.value.code == "same_deadline"
