"""Duplicate detection (减负)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.commands import MergeDuplicateFinding
from domain.duplicates import (
    CaseSummary,
    FindingText,
    ensure_not_duplicate,
    find_duplicate,
    normalize,
    similarity,
)
from domain.errors import InvalidCommand
from domain.vocabulary import Source

from .builders import SUPERVISOR

THRESHOLD = Decimal("0.6")

RIVER = CaseSummary(
    case_id="F-1",
    unit_id="unit-a",
    title="城东河道垃圾长期未清理",
    description="城东河道沿岸堆积大量生活垃圾，群众反映强烈",
    category="ecology",
)
SCHOOL = CaseSummary(
    case_id="F-2",
    unit_id="unit-a",
    title="学校食堂卫生不达标",
    description="食堂后厨卫生检查不合格",
    category="livelihood",
)


def test_the_same_problem_from_another_channel_matches_the_open_case() -> None:
    new = FindingText(
        title="城东河道垃圾未及时清理",
        description="城东河道沿岸生活垃圾堆积，群众多次信访",
        category="ecology",
    )
    match = find_duplicate(new, "unit-a", [SCHOOL, RIVER], THRESHOLD)
    assert match is not None
    assert match.case_id == "F-1"
    assert match.score >= THRESHOLD
    MergeDuplicateFinding(
        actor=SUPERVISOR,
        finding_id="F-9",
        source=Source.PETITION,
        title=new.title,
        similarity=match.similarity,
    )


def test_a_different_problem_does_not_match() -> None:
    new = FindingText(title="乡镇卫生院缺少医生", description="村民看病难", category="livelihood")
    assert find_duplicate(new, "unit-a", [RIVER, SCHOOL], THRESHOLD) is None


def test_only_cases_of_the_same_unit_are_compared() -> None:
    new = FindingText(title=RIVER.title, description=RIVER.description, category="ecology")
    assert find_duplicate(new, "unit-b", [RIVER], THRESHOLD) is None


def test_normalization_ignores_width_case_and_punctuation() -> None:
    assert normalize("ＡＢＣ，河道 垃圾！") == "abc河道垃圾"


def test_a_duplicate_is_refused_unless_a_supervisor_overrides() -> None:
    match = find_duplicate(FindingText(title=RIVER.title), "unit-a", [RIVER], THRESHOLD)
    with pytest.raises(InvalidCommand) as refused:
        ensure_not_duplicate(match, override=False)
    assert refused.value.code == "duplicate_finding"
    assert "F-1" in refused.value.message_zh
    ensure_not_duplicate(match, override=True)
    ensure_not_duplicate(None, override=False)


texts = st.builds(
    FindingText,
    title=st.text(min_size=0, max_size=30),
    description=st.text(max_size=60),
    category=st.sampled_from([None, "ecology", "economy"]),
)


@given(texts, texts)
def test_similarity_is_symmetric_and_between_zero_and_one(a: FindingText, b: FindingText) -> None:
    score = similarity(a, b)
    assert Decimal(0) <= score <= Decimal(1)
    assert score == similarity(b, a)


@given(texts)
def test_a_finding_with_a_title_is_identical_to_itself(a: FindingText) -> None:
    if normalize(a.title):
        assert similarity(a, a) == Decimal(1)
