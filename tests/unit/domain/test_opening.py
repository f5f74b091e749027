"""Recording a finding and opening its case."""

from __future__ import annotations

from datetime import date

import pytest

from domain.case import decide, fold
from domain.commands import MergeDuplicateFinding, OpenCase
from domain.errors import InvalidCommand, InvalidState
from domain.events import CaseOpened, DuplicateFindingMerged, FindingRecorded
from domain.values import Milestone
from domain.vocabulary import CaseKind, CaseStatus, Source

from .builders import NOW, SUPERVISOR, History, at, open_case, opened


def test_opening_records_the_finding_and_opens_the_case() -> None:
    events = decide(None, open_case(), NOW)
    assert [type(e) for e in events] == [FindingRecorded, CaseOpened]
    state = fold(events)
    assert state is not None
    assert state.status is CaseStatus.OPEN
    assert state.deadline == state.original_deadline == date(2025, 4, 30)
    assert state.version == 2


def test_a_recorded_finding_can_be_opened_later() -> None:
    history = History()
    cmd = open_case()
    # a log holding the finding alone (no command records one without opening its case)
    history.events.append(decide(None, cmd, NOW)[0])
    assert history.case.status is CaseStatus.RECORDED
    assert [type(e) for e in history.do(cmd)] == [CaseOpened]


def test_a_case_cannot_be_opened_twice() -> None:
    with pytest.raises(InvalidState) as refused:
        opened().do(open_case())
    assert refused.value.code == "case_exists"


def test_a_deadline_in_the_past_is_refused() -> None:
    with pytest.raises(InvalidCommand) as refused:
        decide(None, open_case(deadline=date(2025, 3, 3)), NOW)
    assert refused.value.code == "deadline_not_in_future"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        # 2025-03-03 is a Monday; no holidays in the next two weeks.
        (CaseKind.IMMEDIATE, date(2025, 3, 17)),
        # 60 working days, across Qingming (4-4..4-6) and Labour Day (5-1..5-5, 4-27 worked).
        (CaseKind.TIME_LIMITED, date(2025, 5, 29)),
    ],
)
def test_without_a_deadline_the_kinds_default_is_counted_in_working_days(
    kind: CaseKind, expected: date
) -> None:
    state = opened(deadline=None, kind=kind).case
    assert state.deadline == expected
    assert not state.deadline_provisional


def test_a_long_term_case_needs_milestones() -> None:
    with pytest.raises(InvalidCommand) as refused:
        decide(None, open_case(kind=CaseKind.LONG_TERM, deadline=date(2025, 12, 31)), NOW)
    assert refused.value.code == "milestones_required"


def test_milestones_belong_only_to_long_term_cases() -> None:
    milestone = Milestone(milestone_id="m1", title="第一阶段", due=date(2025, 4, 1))
    with pytest.raises(InvalidCommand) as refused:
        decide(None, open_case(milestones=(milestone,)), NOW)
    assert refused.value.code == "milestones_only_long_term"


def test_a_milestone_after_the_deadline_is_refused() -> None:
    milestone = Milestone(milestone_id="m1", title="第一阶段", due=date(2026, 1, 5))
    cmd = open_case(kind=CaseKind.LONG_TERM, deadline=date(2025, 12, 31), milestones=(milestone,))
    with pytest.raises(InvalidCommand) as refused:
        decide(None, cmd, NOW)
    assert refused.value.code == "milestone_out_of_range"


def test_a_deadline_counted_into_an_unknown_year_is_provisional() -> None:
    state = opened(now=at(2026, 12, 1), deadline=None).case
    assert state.deadline is not None
    assert state.deadline.year == 2027
    assert state.deadline_provisional


def test_a_duplicate_finding_joins_the_open_case_as_another_source() -> None:
    history = opened()
    merge = MergeDuplicateFinding(
        actor=SUPERVISOR,
        finding_id="F-2",
        source=Source.PETITION,
        title="河道垃圾",
        similarity="0.8",
    )
    assert [type(e) for e in history.do(merge)] == [DuplicateFindingMerged]
    assert [f.finding_id for f in history.case.findings] == ["F-1", "F-2"]
    with pytest.raises(InvalidState) as refused:
        history.do(merge)
    assert refused.value.code == "finding_already_merged"


def test_an_override_of_the_duplicate_check_is_kept_on_the_event() -> None:
    events = decide(None, open_case(override_duplicate=True), NOW)
    assert isinstance(events[1], CaseOpened)
    assert events[1].duplicate_override


def test_an_open_command_with_an_unknown_field_is_invalid() -> None:
    with pytest.raises(ValueError):
        OpenCase(**{**open_case().model_dump(), "colour": "red"})
