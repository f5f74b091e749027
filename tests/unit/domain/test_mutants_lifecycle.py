"""domain/handlers/lifecycle.py: exact events and exact refusals of every handler."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.case import decide, fold
from domain.commands import (
    AssignResponsibility,
    MergeDuplicateFinding,
    RecomputeDeadline,
    SetDeadline,
    SetTarget,
    TransferResponsibility,
    WithdrawCase,
)
from domain.errors import DomainError, InvalidCommand, InvalidState
from domain.events import (
    CaseOpened,
    CaseWithdrawn,
    DeadlineSet,
    DuplicateFindingMerged,
    FindingRecorded,
    ResponsibilityAssigned,
    ResponsibilityTransferred,
    TargetSet,
)
from domain.policy import DEFAULT_POLICY, CalendarPolicy, DeadlinePolicy, Policy
from domain.values import Milestone
from domain.vocabulary import CaseKind, CaseStatus, Source
from domain.workdays import CalendarYear

from .builders import (
    DEADLINE,
    NOW,
    SUPERVISOR,
    SYSTEM,
    at,
    open_case,
    opened,
    pending_closure,
    with_plan,
)


def refused(
    state: Any, command: Any, now: Any = NOW, policy: Policy = DEFAULT_POLICY
) -> DomainError:
    with pytest.raises(DomainError) as raised:
        decide(state, command, now, policy)
    return raised.value


def assert_refusal(error: DomainError, kind: type, code: str, zh: str, en: str) -> None:
    assert type(error) is kind
    assert (error.code, error.message_zh, error.message_en) == (code, zh, en)


def _recorded() -> Any:
    return fold(
        [
            FindingRecorded(
                occurred_at=NOW,
                finding_id="F-1",
                source=Source.INSPECTION,
                title="t",
                unit_id="unit-a",
                cadre_id="cadre-1",
            )
        ]
    )


# --- open_case ------------------------------------------------------------------------


def test_open_records_the_finding_and_opens_with_every_field() -> None:
    milestone = Milestone(milestone_id="m1", title="第一阶段", due=date(2025, 4, 1))
    cmd = open_case(kind=CaseKind.LONG_TERM, milestones=(milestone,), override_duplicate=True)
    policy = Policy(version="v7", unit_class="county")
    events = decide(None, cmd, NOW, policy)
    assert events == [
        FindingRecorded(
            occurred_at=NOW,
            finding_id="F-1",
            source=Source.INSPECTION,
            title="河道垃圾长期未清理",
            description="城东河道沿岸堆积生活垃圾",
            category="ecology",
            severity="major",
            unit_id="unit-a",
            cadre_id="cadre-1",
        ),
        CaseOpened(
            occurred_at=NOW,
            case_id="F-1",
            finding_id="F-1",
            unit_id="unit-a",
            cadre_id="cadre-1",
            kind=CaseKind.LONG_TERM,
            deadline=DEADLINE,
            target="两周内清理完毕并建立长效保洁机制",
            deadline_working_days=None,
            deadline_counted_from=None,
            deadline_provisional=False,
            milestones=(milestone,),
            duplicate_override=True,
            policy_version="v7",
            policy_hash=policy.fingerprint(),
            policy_class="county",
        ),
    ]


@pytest.mark.parametrize("kind", [CaseKind.IMMEDIATE, CaseKind.TIME_LIMITED])
def test_open_without_a_deadline_counts_the_policys_working_days(kind: CaseKind) -> None:
    events = decide(None, open_case(deadline=None, kind=kind), NOW)
    opened_event = events[1]
    assert isinstance(opened_event, CaseOpened)
    counted = DEFAULT_POLICY.default_deadline(kind, NOW.date())
    assert opened_event.deadline == counted.date
    assert opened_event.deadline_working_days == DEFAULT_POLICY.deadlines.working_days(kind)
    assert opened_event.deadline_counted_from == NOW.date()
    assert opened_event.deadline_provisional is False
    assert opened_event.duplicate_override is False
    assert opened_event.policy_version == "builtin"
    assert opened_event.policy_class is None


def test_open_without_a_deadline_into_an_unknown_year_is_provisional() -> None:
    now = at(2026, 12, 1)
    events = decide(None, open_case(deadline=None), now)
    opened_event = events[1]
    assert isinstance(opened_event, CaseOpened)
    assert opened_event.deadline_provisional is True
    assert (
        opened_event.deadline
        == DEFAULT_POLICY.default_deadline(CaseKind.TIME_LIMITED, date(2026, 12, 1)).date
    )
    assert opened_event.deadline_counted_from == date(2026, 12, 1)


def test_open_a_recorded_finding_adds_only_the_opening() -> None:
    events = decide(_recorded(), open_case(), NOW)
    assert [type(e) for e in events] == [CaseOpened]


def test_open_a_recorded_finding_of_another_id_is_refused() -> None:
    assert_refusal(
        refused(_recorded(), open_case(finding_id="F-2")),
        InvalidCommand,
        "finding_mismatch",
        "问题编号与案件不符",
        "the finding id does not match this case",
    )


def test_open_an_open_case_again_is_refused() -> None:
    assert_refusal(
        refused(opened().case, open_case()),
        InvalidState,
        "case_exists",
        "该问题已立项",
        "a case already exists for this finding",
    )


def test_open_with_a_deadline_today_is_refused() -> None:
    error = refused(None, open_case(deadline=NOW.date()))
    assert error.code == "deadline_not_in_future"


def test_open_checks_milestones_against_the_deadline() -> None:
    late = Milestone(milestone_id="m1", title="一", due=date(2025, 5, 1))
    error = refused(None, open_case(kind=CaseKind.LONG_TERM, milestones=(late,)))
    assert error.code == "milestone_out_of_range"
    # Counted deadline: the milestone is checked against the counted date.
    counted = DEFAULT_POLICY.default_deadline(CaseKind.LONG_TERM, NOW.date()).date
    inside = Milestone(milestone_id="m1", title="一", due=counted)
    events = decide(
        None, open_case(kind=CaseKind.LONG_TERM, deadline=None, milestones=(inside,)), NOW
    )
    assert isinstance(events[1], CaseOpened)
    assert events[1].deadline == counted


# --- merge ----------------------------------------------------------------------------


def _merge(**changes: Any) -> MergeDuplicateFinding:
    fields: dict[str, Any] = {
        "actor": SUPERVISOR,
        "finding_id": "F-2",
        "source": Source.PETITION,
        "title": "同一问题",
        "description": "信访反映",
        "category": "ecology",
        "severity": "minor",
        "similarity": "0.8",
    }
    fields.update(changes)
    return MergeDuplicateFinding(**fields)


def test_merge_carries_every_field() -> None:
    assert decide(opened().case, _merge(), NOW) == [
        DuplicateFindingMerged(
            occurred_at=NOW,
            finding_id="F-2",
            source=Source.PETITION,
            title="同一问题",
            description="信访反映",
            category="ecology",
            severity="minor",
            similarity="0.8",
        )
    ]


def test_merge_of_a_finding_already_in_the_case_is_refused() -> None:
    history = opened()
    history.do(_merge())
    for finding_id in ("F-1", "F-2"):
        assert_refusal(
            refused(history.case, _merge(finding_id=finding_id)),
            InvalidState,
            "finding_already_merged",
            "该问题已并入本案件",
            "the finding is already in this case",
        )


def test_merge_needs_an_active_case() -> None:
    assert refused(None, _merge()).code == "no_case"
    history = opened()
    history.do(WithdrawCase(actor=SUPERVISOR, reason="误报"))
    assert refused(history.case, _merge()).code == "case_not_active"


# --- assign / transfer ----------------------------------------------------------------


def test_assign_names_both_cadres() -> None:
    cmd = AssignResponsibility(actor=SUPERVISOR, cadre_id="cadre-2", reason="调整分工")
    assert decide(opened().case, cmd, NOW) == [
        ResponsibilityAssigned(
            occurred_at=NOW, cadre_id="cadre-2", previous_cadre_id="cadre-1", reason="调整分工"
        )
    ]
    same = AssignResponsibility(actor=SUPERVISOR, cadre_id="cadre-1", reason="x")
    assert_refusal(
        refused(opened().case, same),
        InvalidCommand,
        "same_cadre",
        "该干部已是责任人",
        "that cadre is already responsible",
    )
    assert refused(None, cmd).code == "no_case"


def test_transfer_names_both_units_and_cadres() -> None:
    cmd = TransferResponsibility(
        actor=SUPERVISOR, unit_id="unit-b", cadre_id="cadre-9", reason="职能调整"
    )
    assert decide(opened().case, cmd, NOW) == [
        ResponsibilityTransferred(
            occurred_at=NOW,
            unit_id="unit-b",
            cadre_id="cadre-9",
            previous_unit_id="unit-a",
            previous_cadre_id="cadre-1",
            reason="职能调整",
        )
    ]
    same = TransferResponsibility(
        actor=SUPERVISOR, unit_id="unit-a", cadre_id="cadre-9", reason="x"
    )
    assert_refusal(
        refused(opened().case, same),
        InvalidCommand,
        "same_unit",
        "移交须换到另一责任单位；同一单位内请指定责任人",
        "a transfer goes to another unit; within the unit, assign a cadre",
    )
    assert refused(None, cmd).code == "no_case"


def _withdrawn() -> Any:
    history = opened()
    history.do(WithdrawCase(actor=SUPERVISOR, reason="误报"))
    return history.case


@pytest.mark.parametrize(
    "cmd",
    [
        AssignResponsibility(actor=SUPERVISOR, cadre_id="cadre-2", reason="r"),
        TransferResponsibility(actor=SUPERVISOR, unit_id="unit-b", cadre_id="c", reason="r"),
        SetDeadline(actor=SUPERVISOR, deadline=date(2025, 6, 30), reason="r"),
        SetTarget(actor=SUPERVISOR, target="新目标"),
        RecomputeDeadline(actor=SYSTEM),
    ],
)
def test_a_withdrawn_case_takes_no_change(cmd: Any) -> None:
    assert refused(_withdrawn(), cmd).code == "case_not_active"
    assert refused(None, cmd).code == "no_case"


# --- set_deadline / set_target --------------------------------------------------------


def test_set_deadline_event_and_boundaries() -> None:
    state = opened().case
    cmd = SetDeadline(actor=SUPERVISOR, deadline=date(2025, 3, 4), reason="提前")
    assert decide(state, cmd, NOW) == [
        DeadlineSet(
            occurred_at=NOW,
            deadline=date(2025, 3, 4),
            previous_deadline=DEADLINE,
            reason="提前",
            deadline_working_days=None,
            deadline_counted_from=None,
            deadline_provisional=False,
        )
    ]
    today = SetDeadline(actor=SUPERVISOR, deadline=NOW.date(), reason="x")
    assert refused(state, today).code == "deadline_not_in_future"
    same = SetDeadline(actor=SUPERVISOR, deadline=DEADLINE, reason="x")
    assert_refusal(
        refused(state, same),
        InvalidCommand,
        "same_deadline",
        "整改期限未变化",
        "the deadline is unchanged",
    )


def test_set_deadline_on_a_pending_closure() -> None:
    history = pending_closure(with_plan(opened()))
    assert history.case.status is CaseStatus.CLOSURE_PENDING
    cmd = SetDeadline(actor=SUPERVISOR, deadline=date(2025, 6, 30), reason="r")
    assert isinstance(decide(history.case, cmd, NOW)[0], DeadlineSet)


def test_set_target() -> None:
    cmd = SetTarget(actor=SUPERVISOR, target="新目标")
    assert decide(opened().case, cmd, NOW) == [TargetSet(occurred_at=NOW, target="新目标")]


# --- recompute_deadline ---------------------------------------------------------------

START = date(2026, 12, 1)
NOTICE = CalendarYear(
    year=2027, holidays=frozenset(date(2027, 1, d) for d in range(1, 9)), workdays=frozenset()
)
QUIET = CalendarYear(year=2027, holidays=frozenset({date(2027, 1, 1)}))  # as provisional


def _provisional() -> Any:
    history = opened(now=at(2026, 12, 1), deadline=None)
    assert history.case.deadline_provisional
    return history.case


def test_recompute_with_the_commands_years_recounts_exactly() -> None:
    case = _provisional()
    calendar = CalendarPolicy(years=(NOTICE,)).calendar()
    expected = calendar.add_working_days(START, 60)
    assert expected.provisional is False
    assert expected.date != case.deadline
    events = decide(case, RecomputeDeadline(actor=SUPERVISOR, years=(NOTICE,)), at(2026, 12, 2))
    assert events == [
        DeadlineSet(
            occurred_at=at(2026, 12, 2),
            deadline=expected.date,
            previous_deadline=case.deadline,
            reason="calendar_updated",
            deadline_working_days=60,
            deadline_counted_from=START,
            deadline_provisional=False,
        )
    ]


def test_recompute_to_the_same_date_on_a_known_year_still_records_it() -> None:
    case = _provisional()
    events = decide(case, RecomputeDeadline(actor=SYSTEM, years=(QUIET,)), at(2026, 12, 2))
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, DeadlineSet)
    assert event.deadline == case.deadline  # weekends only, as the provisional rule said
    assert event.deadline_provisional is False


def test_recompute_with_nothing_known_yet_is_silent() -> None:
    case = _provisional()
    assert decide(case, RecomputeDeadline(actor=SYSTEM), at(2026, 12, 2)) == []


def test_recompute_of_a_fixed_deadline_is_refused() -> None:
    error = refused(opened().case, RecomputeDeadline(actor=SYSTEM, years=(NOTICE,)))
    assert_refusal(
        error,
        InvalidState,
        "deadline_not_provisional",
        "整改期限不是按临时日历计算的，无需重算",
        "the deadline was not counted on a provisional calendar",
    )
    # Counted but not provisional (a known year) is refused the same way.
    counted = opened(deadline=None).case
    assert counted.deadline_working_days == 60
    assert not counted.deadline_provisional
    assert refused(counted, RecomputeDeadline(actor=SYSTEM)).code == "deadline_not_provisional"


# --- withdraw -------------------------------------------------------------------------


def test_withdraw_event_and_refusals() -> None:
    cmd = WithdrawCase(actor=SUPERVISOR, reason="误报")
    assert decide(opened().case, cmd, NOW) == [CaseWithdrawn(occurred_at=NOW, reason="误报")]
    # A recorded (not opened) finding and a closed case may be withdrawn too.
    assert decide(_recorded(), cmd, NOW) == [CaseWithdrawn(occurred_at=NOW, reason="误报")]
    assert_refusal(
        refused(_withdrawn(), cmd),
        InvalidState,
        "already_withdrawn",
        "案件已撤销",
        "the case is already withdrawn",
    )
    merged = opened().case.model_copy(update={"status": CaseStatus.MERGED})
    assert_refusal(
        refused(merged, cmd),
        InvalidState,
        "case_merged",
        "案件已合并",
        "the case was merged into another",
    )
    assert refused(None, cmd).code == "no_case"


def test_recompute_that_moves_the_date_but_still_crosses_an_unknown_year_stays_provisional() -> (
    None
):
    # 400 working days from 2026-12-01 reach 2028: the 2027 notice moves the date, 2028
    # is still unknown.
    policy = Policy(deadlines=DeadlinePolicy(immediate=400))
    case = opened(policy=policy, now=at(2026, 12, 1), deadline=None, kind=CaseKind.IMMEDIATE).case
    assert case.deadline_provisional
    events = decide(case, RecomputeDeadline(actor=SYSTEM, years=(NOTICE,)), at(2026, 12, 2), policy)
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, DeadlineSet)
    assert event.deadline != case.deadline
    assert event.deadline is not None
    assert event.deadline.year == 2028
    assert event.deadline_provisional is True
    assert event.deadline_working_days == 400
