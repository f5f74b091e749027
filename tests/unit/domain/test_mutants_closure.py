"""domain/handlers/closure.py: exact events, refusals and the look-back boundary."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from domain.case import decide
from domain.commands import (
    ApplyTolerance,
    RecordAccountability,
    RecordSatisfaction,
    RejectClosure,
    ReopenCase,
    RequestClosure,
    VerifyClosure,
)
from domain.errors import DomainError, InvalidState
from domain.events import (
    AccountabilityRecorded,
    CaseClosed,
    CaseReopened,
    ClosureRejected,
    ClosureRequested,
    ClosureVerified,
    SatisfactionRecorded,
    ToleranceApplied,
)
from domain.policy import DEFAULT_POLICY, Policy
from domain.state import CaseState
from domain.vocabulary import AccountabilityAction, CaseKind, CaseStatus

from .builders import (
    DEADLINE,
    EVIDENCE,
    NOW,
    SUPERVISOR,
    UNIT,
    at,
    opened,
    pending_closure,
    with_plan,
)


def refused(
    state: Any, command: Any, now: datetime = NOW, policy: Policy = DEFAULT_POLICY
) -> DomainError:
    with pytest.raises(DomainError) as raised:
        decide(state, command, now, policy)
    return raised.value


def status(state: CaseState, value: CaseStatus) -> CaseState:
    return state.model_copy(update={"status": value})


# --- request / verify / reject --------------------------------------------------------


def test_request_needs_an_open_case_with_a_plan() -> None:
    cmd = RequestClosure(actor=UNIT, summary="已完成", evidence=(EVIDENCE,))
    assert decide(with_plan(opened()).case, cmd, NOW) == [
        ClosureRequested(occurred_at=NOW, summary="已完成", evidence=(EVIDENCE,))
    ]
    e = refused(opened().case, cmd)
    assert (type(e), e.code, e.message_zh, e.message_en) == (
        InvalidState,
        "plan_required",
        "提交整改方案后才能申请销号",
        "closure needs a submitted plan first",
    )
    assert refused(pending_closure(opened()).case, cmd).code == "case_not_open"
    assert refused(None, cmd).code == "no_case"


def test_verify_closes_with_both_deadlines() -> None:
    state = pending_closure(opened()).case.model_copy(
        update={"deadline": date(2025, 5, 30), "original_deadline": DEADLINE}
    )
    cmd = VerifyClosure(actor=SUPERVISOR, comment="合格")
    assert decide(state, cmd, NOW) == [
        ClosureVerified(occurred_at=NOW, comment="合格"),
        CaseClosed(occurred_at=NOW, deadline=date(2025, 5, 30), original_deadline=DEADLINE),
    ]
    assert refused(opened().case, cmd).code == "no_pending_closure"
    assert refused(None, cmd).code == "no_case"


def test_reject_returns_to_work() -> None:
    cmd = RejectClosure(actor=SUPERVISOR, reason="证据不足")
    assert decide(pending_closure(opened()).case, cmd, NOW) == [
        ClosureRejected(occurred_at=NOW, reason="证据不足")
    ]
    assert refused(opened().case, cmd).code == "no_pending_closure"
    assert refused(None, cmd).code == "no_case"


# --- satisfaction ---------------------------------------------------------------------


def _closed(closed_at: datetime = NOW, policy: Policy = DEFAULT_POLICY) -> CaseState:
    history = pending_closure(opened(policy=policy))
    history.do(VerifyClosure(actor=SUPERVISOR), closed_at)
    assert history.case.status is CaseStatus.CLOSED
    return history.case


def test_satisfaction_only_after_closure() -> None:
    cmd = RecordSatisfaction(actor=SUPERVISOR, score_percent=87, respondents=12, note="回访")
    assert decide(_closed(), cmd, NOW) == [
        SatisfactionRecorded(occurred_at=NOW, score_percent=87, respondents=12, note="回访")
    ]
    assert refused(opened().case, cmd).code == "satisfaction_before_closure"
    assert refused(None, cmd).code == "no_case"


# --- reopen ---------------------------------------------------------------------------

SHORT = Policy(look_back_days=10)


def test_reopen_on_the_last_day_of_the_window_and_not_after() -> None:
    # Closed 2025-03-03 20:00 UTC, already 2025-03-04 in China: the window ends 03-14.
    closed_at = datetime(2025, 3, 3, 20, tzinfo=UTC)
    state = _closed(closed_at, SHORT)
    cmd = ReopenCase(actor=SUPERVISOR, reason="回头看发现反弹", deadline=date(2025, 6, 30))
    assert decide(state, cmd, at(2025, 3, 14, 23), SHORT) == [
        CaseReopened(
            occurred_at=at(2025, 3, 14, 23),
            reason="回头看发现反弹",
            deadline=date(2025, 6, 30),
        )
    ]
    e = refused(state, cmd, at(2025, 3, 15, 0), SHORT)
    assert (type(e), e.code, e.message_zh, e.message_en) == (
        InvalidState,
        "look_back_expired",
        "回头看期限已于 2025年3月14日 届满，不能重新打开",
        "the look-back window ended on 2025-03-14",
    )


def test_reopen_with_a_deadline_today_is_refused() -> None:
    cmd = ReopenCase(actor=SUPERVISOR, reason="r", deadline=date(2025, 3, 5))
    assert refused(_closed(), cmd, at(2025, 3, 5)).code == "deadline_not_in_future"


@pytest.mark.parametrize("kind", [CaseKind.IMMEDIATE, CaseKind.TIME_LIMITED])
def test_reopen_without_a_deadline_counts_the_kinds_default(kind: CaseKind) -> None:
    state = _closed().model_copy(update={"kind": kind})
    now = at(2025, 3, 10)
    counted = DEFAULT_POLICY.default_deadline(kind, date(2025, 3, 10))
    assert decide(state, ReopenCase(actor=SUPERVISOR, reason="r"), now) == [
        CaseReopened(
            occurred_at=now,
            reason="r",
            deadline=counted.date,
            deadline_working_days=DEFAULT_POLICY.deadlines.working_days(kind),
            deadline_counted_from=date(2025, 3, 10),
            deadline_provisional=False,
        )
    ]


def test_reopen_counted_into_an_unknown_year_is_provisional() -> None:
    state = _closed(at(2026, 11, 30))
    now = at(2026, 12, 1)
    events = decide(state, ReopenCase(actor=SUPERVISOR, reason="r"), now)
    assert isinstance(events[0], CaseReopened)
    assert events[0].deadline_provisional is True
    assert events[0].deadline_counted_from == date(2026, 12, 1)


def test_reopen_only_a_closed_case() -> None:
    cmd = ReopenCase(actor=SUPERVISOR, reason="r")
    assert refused(opened().case, cmd).code == "reopen_only_closed"
    assert refused(None, cmd).code == "no_case"


# --- accountability / tolerance -------------------------------------------------------


def _at_level(level: int, state: CaseState | None = None) -> CaseState:
    return (state or opened().case).model_copy(update={"highest_escalation_level": level})


def test_accountability_at_level_4_names_the_responsible_cadre() -> None:
    cmd = RecordAccountability(
        actor=SUPERVISOR, action=AccountabilityAction.DEMOTION_OR_REMOVAL, reason="r"
    )
    assert decide(_at_level(4), cmd, NOW) == [
        AccountabilityRecorded(
            occurred_at=NOW,
            cadre_id="cadre-1",
            action=AccountabilityAction.DEMOTION_OR_REMOVAL,
            reason="r",
            escalation_level=4,
            by_decision=False,
        )
    ]
    named = RecordAccountability(
        actor=SUPERVISOR,
        action=AccountabilityAction.ADMONISHMENT_TALK,
        reason="r",
        cadre_id="cadre-7",
        by_decision=True,
    )
    assert decide(_at_level(2), named, NOW) == [
        AccountabilityRecorded(
            occurred_at=NOW,
            cadre_id="cadre-7",
            action=AccountabilityAction.ADMONISHMENT_TALK,
            reason="r",
            escalation_level=2,
            by_decision=True,
        )
    ]


def test_tolerance_at_level_4_or_by_decision() -> None:
    assert decide(_at_level(4), ApplyTolerance(actor=SUPERVISOR, reason="r"), NOW) == [
        ToleranceApplied(
            occurred_at=NOW, cadre_id="cadre-1", reason="r", escalation_level=4, by_decision=False
        )
    ]
    decided = ApplyTolerance(actor=SUPERVISOR, reason="r", cadre_id="c-2", by_decision=True)
    assert decide(_at_level(1), decided, NOW) == [
        ToleranceApplied(
            occurred_at=NOW, cadre_id="c-2", reason="r", escalation_level=1, by_decision=True
        )
    ]


@pytest.mark.parametrize(
    "cmd",
    [
        RecordAccountability(
            actor=SUPERVISOR, action=AccountabilityAction.REASSIGNMENT, reason="r"
        ),
        ApplyTolerance(actor=SUPERVISOR, reason="r"),
    ],
)
def test_below_level_4_needs_a_decision(cmd: Any) -> None:
    e = refused(_at_level(3), cmd)
    assert (type(e), e.code, e.message_zh, e.message_en) == (
        InvalidState,
        "accountability_not_due",
        "案件未升级至问责建议，须由督查部门作出专门决定",
        "the case has not reached an accountability recommendation (level 4); "
        "a supervisor's explicit decision is needed",
    )
    assert refused(None, cmd).code == "no_case"


@pytest.mark.parametrize(
    "cmd",
    [
        RecordAccountability(
            actor=SUPERVISOR, action=AccountabilityAction.REASSIGNMENT, reason="r", by_decision=True
        ),
        ApplyTolerance(actor=SUPERVISOR, reason="r", by_decision=True),
    ],
)
@pytest.mark.parametrize(
    ("value", "allowed"),
    [
        (CaseStatus.RECORDED, False),
        (CaseStatus.WITHDRAWN, False),
        (CaseStatus.OPEN, True),
        (CaseStatus.CLOSURE_PENDING, True),
        (CaseStatus.CLOSED, True),
        (CaseStatus.MERGED, True),
    ],
)
def test_never_opened_or_withdrawn_cases_take_no_accountability(
    cmd: Any, value: CaseStatus, allowed: bool
) -> None:
    state = _at_level(4, status(opened().case, value))
    if allowed:
        assert len(decide(state, cmd, NOW)) == 1
        return
    e = refused(state, cmd)
    assert (type(e), e.code, e.message_zh, e.message_en) == (
        InvalidState,
        "case_not_opened_or_withdrawn",
        "未立项或已撤销的案件不能问责或免责",
        "no accountability on a case that was never opened or was withdrawn",
    )
