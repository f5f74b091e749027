"""domain/handlers/unit_work.py: exact events and refusals of the unit's work."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.case import decide
from domain.commands import (
    DenyExtension,
    GrantExtension,
    ReportMilestone,
    ReportProgress,
    RequestExtension,
    SubmitPlan,
)
from domain.errors import DomainError, InvalidCommand, InvalidState
from domain.events import (
    DeadlineExtended,
    ExtensionDenied,
    ExtensionGranted,
    ExtensionRequested,
    MilestoneReported,
    PlanSubmitted,
    ProgressReported,
)
from domain.policy import DEFAULT_POLICY, Policy
from domain.state import CaseState, MilestoneState, PendingExtension
from domain.vocabulary import CaseStatus

from .builders import DEADLINE, EVIDENCE, NOW, SUPERVISOR, UNIT, at, opened


def refused(
    state: Any, command: Any, now: Any = NOW, policy: Policy = DEFAULT_POLICY
) -> DomainError:
    with pytest.raises(DomainError) as raised:
        decide(state, command, now, policy)
    return raised.value


def triple(error: DomainError) -> tuple[type, str, str, str]:
    return (type(error), error.code, error.message_zh, error.message_en)


def case(**changes: Any) -> CaseState:
    return opened().case.model_copy(update=changes)  # deadline 2025-04-30


PENDING = case(
    pending_extension=PendingExtension(request_number=2, proposed_deadline=date(2025, 5, 30)),
    extensions_requested=2,
    extensions_granted=1,
)


def test_submit_plan_and_report_progress() -> None:
    plan = SubmitPlan(actor=UNIT, plan="方案", evidence=(EVIDENCE,))
    assert decide(case(), plan, NOW) == [
        PlanSubmitted(occurred_at=NOW, plan="方案", evidence=(EVIDENCE,))
    ]
    assert refused(case(status=CaseStatus.CLOSURE_PENDING), plan).code == "case_not_open"
    progress = ReportProgress(actor=UNIT, text="进展", evidence=(EVIDENCE,), percent_complete=40)
    assert decide(case(status=CaseStatus.CLOSURE_PENDING), progress, NOW) == [
        ProgressReported(occurred_at=NOW, text="进展", evidence=(EVIDENCE,), percent_complete=40)
    ]
    assert refused(case(status=CaseStatus.CLOSED), progress).code == "case_not_active"
    assert refused(None, progress).code == "no_case"
    assert refused(None, plan).code == "no_case"


def test_report_milestone() -> None:
    m = MilestoneState(milestone_id="m1", title="一", due=date(2025, 4, 1))
    cmd = ReportMilestone(actor=UNIT, milestone_id="m1", text="完成", evidence=(EVIDENCE,))
    assert decide(case(milestones=(m,)), cmd, NOW) == [
        MilestoneReported(occurred_at=NOW, milestone_id="m1", text="完成", evidence=(EVIDENCE,))
    ]
    assert triple(
        refused(case(milestones=(m,)), cmd.model_copy(update={"milestone_id": "m9"}))
    ) == (
        InvalidCommand,
        "unknown_milestone",
        "本案件没有节点 m9",
        "this case has no milestone m9",
    )
    reported = m.model_copy(update={"reported": True})
    assert triple(refused(case(milestones=(reported,)), cmd)) == (
        InvalidState,
        "milestone_already_reported",
        "该节点已报送",
        "the milestone is already reported",
    )
    assert refused(case(status=CaseStatus.CLOSED, milestones=(m,)), cmd).code == "case_not_active"
    assert refused(None, cmd).code == "no_case"


# --- request --------------------------------------------------------------------------

REQUEST = RequestExtension(actor=UNIT, reason="汛期", proposed_deadline=date(2025, 5, 30))


def test_request_on_the_deadline_day_and_not_after() -> None:
    state = case(extensions_requested=1)
    assert decide(state, REQUEST, at(2025, 4, 30, 23)) == [
        ExtensionRequested(
            occurred_at=at(2025, 4, 30, 23),
            request_number=2,
            reason="汛期",
            proposed_deadline=date(2025, 5, 30),
            current_deadline=DEADLINE,
        )
    ]
    assert triple(refused(state, REQUEST, at(2025, 5, 1, 0))) == (
        InvalidState,
        "extension_after_deadline",
        "延期申请须在整改期限 2025年4月30日 之前提出",
        "an extension must be requested by the deadline 2025-04-30",
    )


def test_request_refusals() -> None:
    assert triple(refused(PENDING, REQUEST)) == (
        InvalidState,
        "extension_pending",
        "已有待审批的延期申请",
        "an extension request is already pending",
    )
    capped = case(extensions_granted=2)
    assert triple(refused(capped, REQUEST)) == (
        InvalidState,
        "extension_cap_reached",
        "本案件延期已达上限（2 次）",
        "the case has reached its cap of 2 extensions",
    )
    assert len(decide(case(extensions_granted=1), REQUEST, NOW)) == 1
    assert len(decide(capped, REQUEST, NOW, Policy(extension_cap=3))) == 1
    same = REQUEST.model_copy(update={"proposed_deadline": DEADLINE})
    assert triple(refused(case(), same)) == (
        InvalidCommand,
        "extension_not_later",
        "申请的期限须晚于现期限 2025年4月30日",
        "the proposed deadline must be after the current deadline 2025-04-30",
    )
    later = REQUEST.model_copy(update={"proposed_deadline": date(2025, 5, 1)})
    assert len(decide(case(), later, NOW)) == 1
    assert refused(case(status=CaseStatus.CLOSURE_PENDING), REQUEST).code == "case_not_open"
    assert refused(None, REQUEST).code == "no_case"


# --- grant / deny ---------------------------------------------------------------------


def test_grant_the_proposed_date_or_another() -> None:
    grant = GrantExtension(actor=SUPERVISOR, comment="同意")
    assert decide(PENDING, grant, NOW) == [
        ExtensionGranted(
            occurred_at=NOW, request_number=2, new_deadline=date(2025, 5, 30), comment="同意"
        ),
        DeadlineExtended(
            occurred_at=NOW,
            deadline=date(2025, 5, 30),
            previous_deadline=DEADLINE,
            request_number=2,
        ),
    ]
    other = GrantExtension(actor=SUPERVISOR, new_deadline=date(2025, 5, 1))
    events = decide(PENDING, other, NOW)
    assert events[0] == ExtensionGranted(
        occurred_at=NOW, request_number=2, new_deadline=date(2025, 5, 1), comment=""
    )


def test_grant_refusals() -> None:
    grant = GrantExtension(actor=SUPERVISOR)
    capped = PENDING.model_copy(update={"extensions_granted": 2})
    assert triple(refused(capped, grant)) == (
        InvalidState,
        "extension_cap_reached",
        "本案件延期已达上限（2 次）",
        "the case has reached its cap of 2 extensions",
    )
    assert len(decide(capped, grant, NOW, Policy(extension_cap=3))) == 2
    not_later = (
        InvalidCommand,
        "extension_not_later",
        "延期后的期限须晚于现期限 2025年4月30日 和今天",
        "the new deadline must be after the current deadline 2025-04-30 and today",
    )
    same = GrantExtension(actor=SUPERVISOR, new_deadline=DEADLINE)
    assert triple(refused(PENDING, same)) == not_later
    # Later than the deadline but not than today (the case is overdue).
    assert triple(refused(PENDING, grant, at(2025, 5, 30))) == not_later
    assert len(decide(PENDING, grant, at(2025, 5, 29))) == 2
    none = (
        InvalidState,
        "no_pending_extension",
        "没有待审批的延期申请",
        "there is no pending extension request",
    )
    assert triple(refused(case(), grant)) == none
    assert triple(refused(case(), DenyExtension(actor=SUPERVISOR, reason="r"))) == none
    closed = PENDING.model_copy(update={"status": CaseStatus.CLOSED})
    assert refused(closed, grant).code == "case_not_active"
    assert refused(None, grant).code == "no_case"


def test_deny() -> None:
    deny = DenyExtension(actor=SUPERVISOR, reason="理由不足")
    assert decide(PENDING, deny, NOW) == [
        ExtensionDenied(occurred_at=NOW, request_number=2, reason="理由不足")
    ]
    assert refused(None, deny).code == "no_case"
