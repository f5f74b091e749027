"""Closure (销号), satisfaction, look-back, withdrawal, accountability."""

from __future__ import annotations

from datetime import date

import pytest

from domain.commands import (
    ApplyTolerance,
    Escalate,
    MarkOverdue,
    RecordAccountability,
    RecordSatisfaction,
    RejectClosure,
    ReopenCase,
    ReportProgress,
    RequestClosure,
    SubmitPlan,
    VerifyClosure,
    WithdrawCase,
)
from domain.errors import InvalidState
from domain.events import (
    AccountabilityRecorded,
    CaseClosed,
    CaseReopened,
    ClosureVerified,
    ToleranceApplied,
)
from domain.vocabulary import AccountabilityAction, CaseStatus

from .builders import DEADLINE, SUPERVISOR, SYSTEM, UNIT, History, at, opened, pending_closure


def _closed() -> History:
    history = pending_closure(opened())
    history.do(VerifyClosure(actor=SUPERVISOR, comment="验收通过"), at(2025, 4, 1))
    return history


def test_closure_only_after_a_plan() -> None:
    with pytest.raises(InvalidState) as refused:
        opened().do(RequestClosure(actor=UNIT, summary="已完成"))
    assert refused.value.code == "plan_required"


def test_verification_closes_the_case() -> None:
    history = pending_closure(opened())
    assert history.case.status == CaseStatus.CLOSURE_PENDING
    events = history.do(VerifyClosure(actor=SUPERVISOR))
    assert [type(e) for e in events] == [ClosureVerified, CaseClosed]
    after = history.case
    assert after.status is CaseStatus.CLOSED


def test_verification_only_of_a_pending_closure() -> None:
    with pytest.raises(InvalidState) as refused:
        opened().do(VerifyClosure(actor=SUPERVISOR))
    assert refused.value.code == "no_pending_closure"


def test_a_rejected_closure_goes_back_to_work_with_the_deadline_unchanged() -> None:
    history = pending_closure(opened())
    history.do(RejectClosure(actor=SUPERVISOR, reason="佐证材料不足"))
    assert history.case.status is CaseStatus.OPEN
    assert history.case.deadline == DEADLINE
    assert history.case.closure_rejections == 1


def test_no_progress_on_a_closed_case() -> None:
    history = _closed()
    with pytest.raises(InvalidState) as refused:
        history.do(ReportProgress(actor=UNIT, text="继续巩固"))
    assert refused.value.code == "case_not_active"


def test_no_progress_on_a_withdrawn_case() -> None:
    history = opened()
    history.do(WithdrawCase(actor=SUPERVISOR, reason="问题不实"))
    with pytest.raises(InvalidState):
        history.do(ReportProgress(actor=UNIT, text="进展"))
    with pytest.raises(InvalidState):
        history.do(SubmitPlan(actor=UNIT, plan="方案"))


def test_a_withdrawn_case_cannot_be_withdrawn_again() -> None:
    history = opened()
    history.do(WithdrawCase(actor=SUPERVISOR, reason="问题不实"))
    with pytest.raises(InvalidState) as refused:
        history.do(WithdrawCase(actor=SUPERVISOR, reason="问题不实"))
    assert refused.value.code == "already_withdrawn"


def test_satisfaction_is_recorded_only_after_closure() -> None:
    with pytest.raises(InvalidState):
        opened().do(RecordSatisfaction(actor=SUPERVISOR, score_percent=90))
    history = _closed()
    assert history.do(RecordSatisfaction(actor=SUPERVISOR, score_percent=90, respondents=30))


def test_reopen_within_the_look_back_window_sets_a_new_deadline() -> None:
    history = _closed()
    events = history.do(ReopenCase(actor=SUPERVISOR, reason="垃圾反弹"), at(2025, 9, 1))
    assert [type(e) for e in events] == [CaseReopened]
    case = history.case
    assert case.status is CaseStatus.OPEN
    assert case.deadline is not None
    assert case.deadline > date(2025, 9, 1)
    assert case.reopen_count == 1


def test_reopen_after_the_look_back_window_is_refused() -> None:
    history = _closed()
    with pytest.raises(InvalidState) as refused:
        history.do(ReopenCase(actor=SUPERVISOR, reason="垃圾反弹"), at(2025, 10, 1))
    assert refused.value.code == "look_back_expired"


def test_reopen_only_a_closed_case() -> None:
    with pytest.raises(InvalidState) as refused:
        opened().do(ReopenCase(actor=SUPERVISOR, reason="x"))
    assert refused.value.code == "reopen_only_closed"


def _accountability(by_decision: bool = False) -> RecordAccountability:
    return RecordAccountability(
        actor=SUPERVISOR,
        action=AccountabilityAction.ADMONISHMENT_TALK,
        reason="整改不力",
        by_decision=by_decision,
    )


def test_accountability_before_level_four_is_refused() -> None:
    with pytest.raises(InvalidState) as refused:
        opened().do(_accountability())
    assert refused.value.code == "accountability_not_due"


def test_accountability_on_a_supervisors_decision_is_accepted() -> None:
    events = opened().do(_accountability(by_decision=True))
    assert isinstance(events[0], AccountabilityRecorded)
    assert events[0].cadre_id == "cadre-1"
    assert events[0].by_decision


def test_accountability_after_level_four_is_accepted() -> None:
    history = opened()
    history.do(MarkOverdue(actor=SYSTEM), at(2025, 5, 6))
    # 20 working days after 2025-04-30: 2025-06-04 (Dragon Boat on 2025-06-02).
    for level in (1, 2, 3, 4):
        history.do(Escalate(actor=SYSTEM, level=level), at(2025, 6, 10))
    assert history.case.highest_escalation_level == 4
    events = history.do(_accountability())
    assert isinstance(events[0], AccountabilityRecorded)
    assert events[0].escalation_level == 4
    tolerance = history.do(ApplyTolerance(actor=SUPERVISOR, reason="客观原因"))
    assert isinstance(tolerance[0], ToleranceApplied)
