"""合并案件 in the domain: who may merge, what each side records, and that the archive
counts the problem once (the merged case leaves every figure, like a withdrawal)."""

from __future__ import annotations

import pytest

from domain.archive import ArchiveEvent, Period, build_archive
from domain.commands import AbsorbCase, MergeIntoCase, WithdrawCase
from domain.errors import InvalidCommand, InvalidState, PermissionDenied
from domain.traffic_light import traffic_light
from domain.values import MergedFinding
from domain.vocabulary import CaseStatus, Source, TrafficLight

from .builders import SUPERVISOR, UNIT, History, at, opened

YEAR = Period(year=2025)


def _archive(*cases: tuple[str, History]) -> dict[str, int]:
    records = [
        ArchiveEvent(event_id=f"{cid}/{i}", stream_id=cid, event=e)
        for cid, h in cases
        for i, e in enumerate(h.events, start=1)
    ]
    return {
        a.cadre_id: a.cases_assigned.value for a in build_archive(records, YEAR, at(2025, 12, 31))
    }


def _merge(absorbed: History, surviving: History) -> None:
    assert absorbed.state is not None
    assert surviving.state is not None
    surviving.do(
        AbsorbCase(
            actor=SUPERVISOR,
            absorbed_case_id=absorbed.state.case_id,
            absorbed_unit_id=absorbed.state.unit_id,
            reason="同一问题重复立项",
            findings=(MergedFinding(finding_id="A", source=Source.AUDIT, title="河道垃圾"),),
        )
    )
    absorbed.do(
        MergeIntoCase(actor=SUPERVISOR, into_case_id=surviving.state.case_id, reason="重复")
    )


def test_a_merged_case_ends_merged_and_the_archive_counts_the_problem_once() -> None:
    absorbed, surviving = opened(finding_id="A"), opened(finding_id="B")
    assert _archive(("A", absorbed), ("B", surviving)) == {"cadre-1": 2}
    _merge(absorbed, surviving)
    assert absorbed.state is not None
    assert surviving.state is not None
    assert absorbed.state.status is CaseStatus.MERGED
    assert absorbed.state.merged_into == surviving.state.case_id
    assert traffic_light(absorbed.state, at(2025, 6, 1)) is TrafficLight.GREY
    assert surviving.state.absorbed_case_ids == (absorbed.state.case_id,)
    assert [f.finding_id for f in surviving.state.findings] == ["B", "A"]
    assert _archive(("A", absorbed), ("B", surviving)) == {"cadre-1": 1}


def test_a_merged_case_takes_no_more_commands() -> None:
    absorbed, surviving = opened(finding_id="A"), opened(finding_id="B")
    _merge(absorbed, surviving)
    with pytest.raises(InvalidState):
        absorbed.do(WithdrawCase(actor=SUPERVISOR, reason="误报"))
    with pytest.raises(InvalidState):
        absorbed.do(MergeIntoCase(actor=SUPERVISOR, into_case_id="case-B", reason="重复"))


def test_only_a_supervisor_merges_and_never_a_case_into_itself() -> None:
    case = opened(finding_id="A")
    assert case.state is not None
    with pytest.raises(PermissionDenied):
        case.do(MergeIntoCase(actor=UNIT, into_case_id="case-B", reason="重复"))
    with pytest.raises(InvalidCommand):
        case.do(MergeIntoCase(actor=SUPERVISOR, into_case_id=case.state.case_id, reason="重复"))


def test_the_surviving_case_takes_in_only_its_own_units_case_once() -> None:
    absorbed, surviving = opened(finding_id="A"), opened(finding_id="B")
    assert absorbed.state is not None
    other_unit = AbsorbCase(
        actor=SUPERVISOR, absorbed_case_id="case-X", absorbed_unit_id="elsewhere", reason="r"
    )
    with pytest.raises(InvalidCommand):
        surviving.do(other_unit)
    _merge(absorbed, surviving)
    with pytest.raises(InvalidState):
        surviving.do(
            AbsorbCase(
                actor=SUPERVISOR,
                absorbed_case_id=absorbed.state.case_id,
                absorbed_unit_id=absorbed.state.unit_id,
                reason="again",
            )
        )
