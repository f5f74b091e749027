"""Who may do what: roles and units."""

from __future__ import annotations

import pytest

from domain.case import decide
from domain.commands import (
    ApplyTolerance,
    AssignResponsibility,
    Command,
    DenyExtension,
    Escalate,
    GrantExtension,
    MarkOverdue,
    RecordAccountability,
    RejectClosure,
    ReopenCase,
    ReportProgress,
    RequestClosure,
    RequestExtension,
    SendReminder,
    SetTarget,
    SubmitPlan,
    VerifyClosure,
    WithdrawCase,
)
from domain.errors import DomainError, PermissionDenied
from domain.vocabulary import AccountabilityAction, Actor, Role

from .builders import (
    INSPECTOR,
    NOW,
    OTHER_UNIT,
    SUPERVISOR,
    SYSTEM,
    UNIT,
    open_case,
    opened,
)


def _supervisor_commands(actor: Actor) -> list[Command]:
    return [
        AssignResponsibility(actor=actor, cadre_id="cadre-2", reason="岗位调整"),
        SetTarget(actor=actor, target="新目标"),
        GrantExtension(actor=actor),
        DenyExtension(actor=actor, reason="理由不足"),
        VerifyClosure(actor=actor),
        RejectClosure(actor=actor, reason="证据不足"),
        ReopenCase(actor=actor, reason="问题反弹"),
        WithdrawCase(actor=actor, reason="问题不实"),
        RecordAccountability(
            actor=actor, action=AccountabilityAction.ADMONISHMENT_TALK, reason="x", by_decision=True
        ),
        ApplyTolerance(actor=actor, reason="改革探索中的失误", by_decision=True),
    ]


def _unit_commands(actor: Actor) -> list[Command]:
    return [
        SubmitPlan(actor=actor, plan="方案"),
        ReportProgress(actor=actor, text="进展"),
        RequestExtension(
            actor=actor, reason="汛期施工困难", proposed_deadline=NOW.date().replace(month=6)
        ),
        RequestClosure(actor=actor, summary="已完成"),
    ]


@pytest.mark.parametrize("command", _supervisor_commands(UNIT), ids=lambda c: type(c).__name__)
def test_a_unit_cannot_issue_a_supervisor_command(command: Command) -> None:
    with pytest.raises(PermissionDenied) as refused:
        decide(opened().case, command, NOW)
    assert refused.value.code == "supervisor_only"


@pytest.mark.parametrize(
    "command",
    _supervisor_commands(INSPECTOR) + _unit_commands(INSPECTOR),
    ids=lambda c: type(c).__name__,
)
def test_an_inspector_changes_nothing(command: Command) -> None:
    with pytest.raises(PermissionDenied) as refused:
        decide(opened().case, command, NOW)
    assert refused.value.code == "inspector_read_only"
    assert "只能查阅" in refused.value.message_zh


@pytest.mark.parametrize("command", _unit_commands(SUPERVISOR), ids=lambda c: type(c).__name__)
def test_a_supervisor_does_not_do_the_units_work(command: Command) -> None:
    with pytest.raises(PermissionDenied) as refused:
        decide(opened().case, command, NOW)
    assert refused.value.code == "unit_only"


@pytest.mark.parametrize("command", _unit_commands(OTHER_UNIT), ids=lambda c: type(c).__name__)
def test_a_unit_acts_only_on_its_own_cases(command: Command) -> None:
    with pytest.raises(PermissionDenied) as refused:
        decide(opened().case, command, NOW)
    assert refused.value.code == "not_own_unit"


def test_only_a_supervisor_opens_a_case() -> None:
    with pytest.raises(PermissionDenied):
        decide(None, open_case(actor=UNIT), NOW)


@pytest.mark.parametrize("actor", [SUPERVISOR, UNIT])
def test_people_cannot_issue_system_commands(actor: Actor) -> None:
    for command in (MarkOverdue(actor=actor), Escalate(actor=actor, level=1)):
        with pytest.raises(PermissionDenied) as refused:
            decide(opened().case, command, NOW)
        assert refused.value.code == "system_only"


def test_the_system_never_decides_a_human_matter() -> None:
    with pytest.raises(PermissionDenied):
        decide(opened().case, GrantExtension(actor=SYSTEM), NOW)


def test_an_admin_cannot_change_a_case() -> None:
    admin = Actor(user_id="root", role=Role.ADMIN)
    with pytest.raises(PermissionDenied):
        decide(opened().case, SendReminder(actor=admin, working_days_before=1), NOW)


def test_every_refusal_speaks_chinese_and_english() -> None:
    with pytest.raises(DomainError) as refused:
        decide(opened().case, SubmitPlan(actor=OTHER_UNIT, plan="方案"), NOW)
    error = refused.value
    assert error.message("zh-CN") == error.message_zh
    assert error.message("en") == error.message_en
    assert error.message_zh != error.message_en
