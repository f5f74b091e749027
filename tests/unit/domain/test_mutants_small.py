"""Small domain modules, exactly: merging, the light, ``constructed``, blank text."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from domain.case import decide
from domain.commands import AbsorbCase, MergeIntoCase, SetTarget
from domain.constructed import constructed
from domain.errors import DomainError, InvalidCommand, InvalidState
from domain.events import CaseAbsorbed, CaseMergedInto
from domain.policy import DEFAULT_POLICY, Policy
from domain.state import CaseState, FindingRef, MilestoneState
from domain.traffic_light import traffic_light
from domain.values import MergedFinding
from domain.vocabulary import CaseStatus, Source, TrafficLight

from .builders import NOW, SUPERVISOR, at, opened


def refused(state: Any, command: Any) -> DomainError:
    with pytest.raises(DomainError) as raised:
        decide(state, command, NOW)
    return raised.value


def triple(error: DomainError) -> tuple[type, str, str, str]:
    return (type(error), error.code, error.message_zh, error.message_en)


# --- merging --------------------------------------------------------------------------

ITSELF = (
    InvalidCommand,
    "merge_into_itself",
    "案件不能并入自身",
    "a case cannot be merged into itself",
)
FOUND = (MergedFinding(finding_id="G-1", source=Source.AUDIT, title="同一问题"),)


def test_merge_into_another_case() -> None:
    cmd = MergeIntoCase(actor=SUPERVISOR, into_case_id="F-9", reason="重复")
    assert decide(opened().case, cmd, NOW) == [
        CaseMergedInto(occurred_at=NOW, reason="重复", into_case_id="F-9")
    ]
    assert triple(refused(opened().case, cmd.model_copy(update={"into_case_id": "F-1"}))) == ITSELF
    assert refused(None, cmd).code == "no_case"
    closed = opened().case.model_copy(update={"status": CaseStatus.CLOSED})
    assert refused(closed, cmd).code == "case_not_active"


def _absorb(**changes: Any) -> AbsorbCase:
    fields: dict[str, Any] = {
        "actor": SUPERVISOR,
        "absorbed_case_id": "F-9",
        "absorbed_unit_id": "unit-a",
        "reason": "重复",
        "findings": FOUND,
    }
    fields.update(changes)
    return AbsorbCase(**fields)


def test_absorb_a_case_of_the_same_unit() -> None:
    assert decide(opened().case, _absorb(), NOW) == [
        CaseAbsorbed(occurred_at=NOW, absorbed_case_id="F-9", reason="重复", findings=FOUND)
    ]
    assert triple(refused(opened().case, _absorb(absorbed_case_id="F-1"))) == ITSELF
    assert triple(refused(opened().case, _absorb(absorbed_unit_id="unit-b"))) == (
        InvalidCommand,
        "merge_other_unit",
        "只能合并同一责任单位的在办案件",
        "only open cases of the same unit can be merged",
    )
    history = opened()
    history.do(_absorb())
    assert triple(refused(history.case, _absorb())) == (
        InvalidState,
        "case_already_absorbed",
        "该案件已并入本案件",
        "that case is already merged into this one",
    )
    assert refused(None, _absorb()).code == "no_case"
    closed = opened().case.model_copy(update={"status": CaseStatus.CLOSED})
    assert refused(closed, _absorb()).code == "case_not_active"


# --- the light ------------------------------------------------------------------------


def _state(**changes: Any) -> CaseState:
    return opened().case.model_copy(update=changes)  # deadline 2025-04-30 (a Wednesday)


def test_light_of_no_case_a_recorded_one_and_one_without_a_deadline() -> None:
    assert traffic_light(None, NOW) is TrafficLight.GREEN
    late = at(2025, 6, 1)
    assert traffic_light(_state(status=CaseStatus.RECORDED), late) is TrafficLight.GREEN
    assert traffic_light(_state(deadline=None), late) is TrafficLight.GREEN


@pytest.mark.parametrize("status", [CaseStatus.CLOSED, CaseStatus.WITHDRAWN, CaseStatus.MERGED])
def test_light_of_an_ended_case_is_grey(status: CaseStatus) -> None:
    assert traffic_light(_state(status=status), at(2025, 6, 1)) is TrafficLight.GREY
    assert traffic_light(_state(status=status), NOW) is TrafficLight.GREY


def test_light_around_the_deadline() -> None:
    state = _state()
    assert traffic_light(state, at(2025, 4, 30, 23)) is TrafficLight.YELLOW
    assert traffic_light(state, at(2025, 5, 1, 0)) is TrafficLight.RED
    # The business date is China's: 2025-04-30 16:00 UTC is already 05-01 there.
    assert traffic_light(state, datetime(2025, 4, 30, 16, tzinfo=UTC)) is TrafficLight.RED
    assert traffic_light(state, datetime(2025, 4, 30, 15, 59, tzinfo=UTC)) is TrafficLight.YELLOW
    pending = _state(status=CaseStatus.CLOSURE_PENDING)
    assert traffic_light(pending, at(2025, 5, 1)) is TrafficLight.YELLOW
    assert traffic_light(pending, NOW) is TrafficLight.GREEN


def test_yellow_threshold_in_working_days_of_the_policy() -> None:
    state = _state()
    # After 04-24 (Thu) come five working days: 04-25, 27 (make-up), 28, 29, 30.
    assert traffic_light(state, at(2025, 4, 23)) is TrafficLight.GREEN
    assert traffic_light(state, at(2025, 4, 24)) is TrafficLight.YELLOW
    strict = Policy(yellow_working_days=1)
    assert traffic_light(state, at(2025, 4, 28), strict) is TrafficLight.GREEN
    assert traffic_light(state, at(2025, 4, 29), strict) is TrafficLight.YELLOW
    assert traffic_light(state, at(2025, 4, 25), DEFAULT_POLICY) is TrafficLight.YELLOW


def test_yellow_behind_an_unreported_milestone_after_its_day() -> None:
    m = MilestoneState(milestone_id="m1", title="一", due=date(2025, 3, 10))
    behind = _state(milestones=(m,))
    assert traffic_light(behind, at(2025, 3, 10)) is TrafficLight.GREEN
    assert traffic_light(behind, at(2025, 3, 11)) is TrafficLight.YELLOW
    reported = _state(milestones=(m.model_copy(update={"reported": True}),))
    assert traffic_light(reported, at(2025, 3, 11)) is TrafficLight.GREEN
    later = MilestoneState(milestone_id="m2", title="二", due=date(2025, 4, 1))
    assert traffic_light(_state(milestones=(later, m)), at(2025, 3, 11)) is TrafficLight.YELLOW


# --- constructed ----------------------------------------------------------------------


def test_constructed_holds_the_values_and_the_fields_set_as_given() -> None:
    values: dict[str, object] = {"finding_id": "F", "source": Source.AUDIT, "title": "t"}
    fields_set = {"finding_id"}
    ref = constructed(FindingRef, values, fields_set)
    assert type(ref) is FindingRef
    assert ref.__dict__ is values
    assert ref.model_fields_set is fields_set
    assert ref.__pydantic_extra__ is None
    assert ref.__pydantic_private__ is None
    assert ref == FindingRef(finding_id="F", source=Source.AUDIT, title="t")
    assert ref.model_dump() == values
    copied = ref.model_copy(update={"title": "u"})
    assert copied.title == "u"
    assert ref.title == "t"


# --- blank text -----------------------------------------------------------------------


@pytest.mark.parametrize("text", [" ", "\t\n", "\u3000"])
def test_blank_required_text_is_refused(text: str) -> None:
    with pytest.raises(ValidationError) as raised:
        SetTarget(actor=SUPERVISOR, target=text)
    [error] = raised.value.errors()
    assert error["msg"] == "Value error, must not be blank (只有空白字符)"
    assert error["loc"] == ("target",)
    assert SetTarget(actor=SUPERVISOR, target=" x ").target == " x "
